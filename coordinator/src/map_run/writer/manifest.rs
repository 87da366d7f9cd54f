//! Where an export goes and how it is indexed: the `<Prefix>/<mapRunId>/` directory, the file
//! names, `manifest.json`, and the state result that points at the manifest.

use serde_json::{Value, json};

use super::file::WrittenFile;
use crate::map_run::record::ChildStatus;

/// The three families of results files, in the order the manifest lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Failed = 0,
    Pending = 1,
    Succeeded = 2,
}

impl FileKind {
    pub(super) const ALL: [FileKind; 3] = [FileKind::Failed, FileKind::Pending, FileKind::Succeeded];

    /// Which file a child's record goes to: timed-out and aborted children are FAILED.
    pub(super) fn of(status: ChildStatus) -> Self {
        match status {
            ChildStatus::Succeeded => FileKind::Succeeded,
            ChildStatus::Failed | ChildStatus::TimedOut | ChildStatus::Aborted => FileKind::Failed,
            ChildStatus::Pending => FileKind::Pending,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            FileKind::Failed => "FAILED",
            FileKind::Pending => "PENDING",
            FileKind::Succeeded => "SUCCEEDED",
        }
    }
}

/// `<Prefix>/<mapRunId>/`. AWS inserts a `/` after the prefix (`csvProcessJobs` →
/// `csvProcessJobs/<mapRunId>/manifest.json`). We do not double a `/` that the prefix already
/// ends with, since `jobs/` is how S3 users usually write a "folder", and an empty prefix puts
/// the directory at the top of the bucket.
pub(super) fn run_dir(prefix: &str, map_run_id: &str) -> String {
    if prefix.is_empty() {
        format!("{map_run_id}/")
    } else if prefix.ends_with('/') {
        format!("{prefix}{map_run_id}/")
    } else {
        format!("{prefix}/{map_run_id}/")
    }
}

/// `<dir>SUCCEEDED_<n>.json`. JSONL exports keep the `.json` extension too: AWS's JSONL naming
/// is unknown (spec §8 item 5), and the documented names are all `.json`.
pub(super) fn file_key(dir: &str, kind: FileKind, index: u32) -> String {
    format!("{dir}{}_{index}.json", kind.name())
}

pub(super) fn manifest_key(dir: &str) -> String {
    format!("{dir}manifest.json")
}

/// `manifest.json`: every file written, grouped by kind, all three kinds present.
pub(super) fn manifest(bucket: &str, map_run_arn: &str, written: &[Vec<WrittenFile>; 3]) -> Value {
    let files = |kind: FileKind| -> Value {
        written[kind as usize].iter().map(|file| json!({"Key": file.key, "Size": file.size})).collect()
    };
    json!({
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": {
            "FAILED": files(FileKind::Failed),
            "PENDING": files(FileKind::Pending),
            "SUCCEEDED": files(FileKind::Succeeded),
        },
    })
}

/// The Map state's result when results are exported.
pub(super) fn state_result(bucket: &str, map_run_arn: &str, manifest_key: &str) -> Value {
    json!({
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
    })
}
