//! The Distributed Map's `ItemReader`: resource, `ReaderConfig` and their cross-field rules
//! (spec §2.3).

use crate::asl::diagnostic::code;
use crate::asl::model::*;

use super::Cx;
use super::fields::Obj;
use super::map::strip_partition;

const MAX_ITEMS_LIMIT: u64 = u64::MAX >> 1;

impl Cx {
    pub(super) fn item_reader(&mut self, o: &mut Obj<'_>) -> Option<ItemReader> {
        let resource = o.required_string("Resource", &mut self.diags);
        let resource = match resource.map(strip_partition) {
            Some(Some("s3:getObject")) => Some(ReaderResource::GetObject),
            Some(Some("s3:listObjectsV2")) => Some(ReaderResource::ListObjectsV2),
            Some(_) => {
                self.diags.error(
                    &o.at("Resource"),
                    code::INVALID_RESOURCE,
                    "ItemReader.Resource must be arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2",
                );
                None
            }
            None => None,
        };
        let parameters = self.payload(o, "Parameters", "Arguments");
        let config = match o.object("ReaderConfig", &mut self.diags) {
            Some(mut rc) => {
                let c = self.reader_config(&mut rc, resource);
                rc.finish("ReaderConfig", &mut self.diags);
                c
            }
            None => {
                if resource == Some(ReaderResource::GetObject) {
                    self.diags.error(
                        &o.ptr,
                        code::MISSING_FIELD,
                        "an s3:getObject ItemReader needs ReaderConfig.InputType",
                    );
                }
                Some(default_reader_config())
            }
        };
        if parameters.is_none() {
            self.diags.error(
                &o.ptr,
                code::MISSING_FIELD,
                "an ItemReader needs 'Parameters' with the Bucket (and Key or Prefix)",
            );
        }
        o.finish("ItemReader", &mut self.diags);
        Some(ItemReader { resource: resource?, config: config?, parameters })
    }

    fn reader_config(&mut self, rc: &mut Obj<'_>, resource: Option<ReaderResource>) -> Option<ReaderConfig> {
        let mut c = default_reader_config();
        c.input_type = match rc.string("InputType", &mut self.diags) {
            None => None,
            Some("CSV") => Some(InputType::Csv),
            Some("JSON") => Some(InputType::Json),
            Some("JSONL") => Some(InputType::Jsonl),
            Some("PARQUET") => Some(InputType::Parquet),
            Some("MANIFEST") => Some(InputType::Manifest),
            Some(other) => {
                self.diags.error(
                    &rc.at("InputType"),
                    code::INVALID_VALUE,
                    format!("InputType must be one of CSV, JSON, JSONL, PARQUET, MANIFEST; got \"{other}\""),
                );
                None
            }
        };
        c.transformation = match rc.string("Transformation", &mut self.diags) {
            None | Some("NONE") => ReaderTransformation::None,
            Some("LOAD_AND_FLATTEN") => ReaderTransformation::LoadAndFlatten,
            Some(other) => {
                self.diags.error(
                    &rc.at("Transformation"),
                    code::INVALID_VALUE,
                    format!("Transformation must be NONE or LOAD_AND_FLATTEN, got \"{other}\""),
                );
                ReaderTransformation::None
            }
        };
        c.manifest_type = match rc.string("ManifestType", &mut self.diags) {
            None => None,
            Some("ATHENA_DATA") => Some(ManifestType::AthenaData),
            Some("S3_INVENTORY") => Some(ManifestType::S3Inventory),
            Some(other) => {
                self.diags.error(
                    &rc.at("ManifestType"),
                    code::INVALID_VALUE,
                    format!("ManifestType must be ATHENA_DATA or S3_INVENTORY, got \"{other}\""),
                );
                None
            }
        };
        c.csv_delimiter = match rc.string("CSVDelimiter", &mut self.diags) {
            None | Some("COMMA") => CsvDelimiter::Comma,
            Some("PIPE") => CsvDelimiter::Pipe,
            Some("SEMICOLON") => CsvDelimiter::Semicolon,
            Some("SPACE") => CsvDelimiter::Space,
            Some("TAB") => CsvDelimiter::Tab,
            Some(other) => {
                self.diags.error(
                    &rc.at("CSVDelimiter"),
                    code::INVALID_VALUE,
                    format!("CSVDelimiter must be COMMA, PIPE, SEMICOLON, SPACE or TAB; got \"{other}\""),
                );
                CsvDelimiter::Comma
            }
        };
        let headers: Option<Vec<String>> = rc
            .array("CSVHeaders", &mut self.diags)
            .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_string)).collect());
        if let Some(a) = rc.map.get("CSVHeaders").and_then(|v| v.as_array())
            && (a.is_empty() || a.iter().any(|h| !h.is_string()))
        {
            self.diags.error(
                &rc.at("CSVHeaders"),
                code::INVALID_VALUE,
                "CSVHeaders must be a non-empty array of strings",
            );
        }
        c.csv_header_location = match rc.string("CSVHeaderLocation", &mut self.diags) {
            // AWS asks for a header location; when it is omitted the first row is the header.
            None | Some("FIRST_ROW") => {
                if headers.is_some() {
                    self.diags.error(
                        &rc.at("CSVHeaders"),
                        code::SCHEMA,
                        "CSVHeaders is only valid with CSVHeaderLocation GIVEN",
                    );
                }
                CsvHeaderLocation::FirstRow
            }
            Some("GIVEN") => match headers {
                Some(h) => CsvHeaderLocation::Given(h),
                None => {
                    self.diags.error(&rc.ptr, code::MISSING_FIELD, "CSVHeaderLocation GIVEN needs CSVHeaders");
                    CsvHeaderLocation::FirstRow
                }
            },
            Some(other) => {
                self.diags.error(
                    &rc.at("CSVHeaderLocation"),
                    code::INVALID_VALUE,
                    format!("CSVHeaderLocation must be FIRST_ROW or GIVEN, got \"{other}\""),
                );
                CsvHeaderLocation::FirstRow
            }
        };
        c.max_items = self.int_or_path(rc, "MaxItems", "MaxItemsPath", 0, MAX_ITEMS_LIMIT);
        if let Some(p) = rc.string("ItemsPointer", &mut self.diags) {
            if !(p.is_empty() || p.starts_with('/')) {
                self.diags.error(
                    &rc.at("ItemsPointer"),
                    code::INVALID_VALUE,
                    format!("ItemsPointer must be a JSON pointer such as /a/b, got \"{p}\""),
                );
            }
            if c.input_type != Some(InputType::Json) {
                self.diags.error(
                    &rc.at("ItemsPointer"),
                    code::SCHEMA,
                    "ItemsPointer is only valid with InputType JSON",
                );
            }
            c.items_pointer = Some(p.to_string());
        }
        // Cross-field rules of spec §2.3.
        let is_csv = matches!(c.input_type, Some(InputType::Csv) | Some(InputType::Manifest));
        if !is_csv && c.manifest_type.is_none() {
            for k in ["CSVHeaderLocation", "CSVHeaders", "CSVDelimiter"] {
                if rc.has(k) {
                    self.diags.error(
                        &rc.at(k),
                        code::SCHEMA,
                        format!("{k} is only valid with InputType CSV or MANIFEST"),
                    );
                }
            }
        }
        match (resource, c.manifest_type) {
            (_, Some(ManifestType::S3Inventory)) if c.input_type.is_some() => {
                self.diags.error(
                    &rc.at("InputType"),
                    code::SCHEMA,
                    "InputType must be absent with ManifestType S3_INVENTORY",
                );
            }
            (_, Some(ManifestType::AthenaData))
                if !matches!(c.input_type, Some(InputType::Csv | InputType::Jsonl | InputType::Parquet)) =>
            {
                self.diags.error(
                    &rc.ptr,
                    code::SCHEMA,
                    "ManifestType ATHENA_DATA needs InputType CSV, JSONL or PARQUET (the format of the data files)",
                );
            }
            (Some(ReaderResource::GetObject), None) if c.input_type.is_none() => {
                self.diags.error(&rc.ptr, code::MISSING_FIELD, "an s3:getObject ItemReader needs InputType");
            }
            _ => {}
        }
        if c.transformation == ReaderTransformation::LoadAndFlatten {
            if resource != Some(ReaderResource::ListObjectsV2) {
                self.diags.error(
                    &rc.at("Transformation"),
                    code::SCHEMA,
                    "Transformation LOAD_AND_FLATTEN is only valid with s3:listObjectsV2",
                );
            } else if c.input_type.is_none() {
                self.diags.error(&rc.ptr, code::MISSING_FIELD, "Transformation LOAD_AND_FLATTEN needs InputType");
            }
        } else if resource == Some(ReaderResource::ListObjectsV2) && c.input_type.is_some() {
            self.diags.error(
                &rc.at("InputType"),
                code::SCHEMA,
                "InputType is only valid with s3:listObjectsV2 when Transformation is LOAD_AND_FLATTEN",
            );
        }
        Some(c)
    }
}

fn default_reader_config() -> ReaderConfig {
    ReaderConfig {
        input_type: None,
        transformation: ReaderTransformation::None,
        manifest_type: None,
        csv_delimiter: CsvDelimiter::Comma,
        csv_header_location: CsvHeaderLocation::FirstRow,
        max_items: None,
        items_pointer: None,
    }
}
