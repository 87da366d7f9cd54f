//! XML ↔ JSON by the model: a response element becomes the JSON its shape describes, and a
//! parameter becomes the XML element restXml sends. The rules are the XML protocols' own
//! (smithy's `xmlName`, `xmlFlattened`, `xmlAttribute`, `xmlNamespace`, as botocore's models
//! spell them: `locationName`, `flattened`, `xmlAttribute`, `xmlNamespace`):
//! - a member's element is its `locationName`, else the member name;
//! - a list is a wrapper whose items are `<member>` (or the list member's `locationName`); a
//!   flattened list repeats the item element in place, named by the list member's
//!   `locationName`, else the member's;
//! - a map is a wrapper of `<entry><key/><value/></entry>` (or the key's and value's
//!   `locationName`); a flattened map repeats the entry element in place;
//! - scalars are text (`scalar`), timestamps ISO-8601 unless the model says otherwise.
//!
//! Owns: those rules, both ways. Must not: read HTTP (headers, status) or know a protocol's
//! envelope (`query` unwraps `<OpResponse><OpResult>`, `rest_xml` picks the root).

use serde_json::{Map, Value};

use super::scalar;
use super::timestamp::Format;
use super::xml::{Element, Writer};
use super::{InvalidParameters, MalformedResponse};
use crate::integrations::aws::model::{Member, Service, Shape, ShapeKind};

fn corrupt(e: impl std::fmt::Display) -> MalformedResponse {
    MalformedResponse(e.to_string())
}

/// Reads `element` as the shape named `shape`. Members bound to HTTP (`location`) are left
/// out: they are not in the body. `None` when a scalar element is empty (no value).
pub fn decode(service: &Service, shape: &str, element: &Element) -> Result<Option<Value>, MalformedResponse> {
    decode_shape(service, service.shape(shape).map_err(corrupt)?, element)
}

fn decode_shape(service: &Service, shape: &Shape, element: &Element) -> Result<Option<Value>, MalformedResponse> {
    match shape.kind {
        ShapeKind::Structure => decode_structure(service, shape, element).map(|m| Some(Value::Object(m))),
        ShapeKind::List => {
            let item = shape.member.as_ref().ok_or_else(|| corrupt("list without member"))?;
            decode_items(service, item, element.children.iter()).map(Some)
        }
        ShapeKind::Map => decode_entries(service, shape, element.children.iter()).map(Some),
        _ => scalar::from_text(shape, &element.text),
    }
}

/// The structure's members, read from `element`'s children and attributes.
pub fn decode_structure(
    service: &Service,
    shape: &Shape,
    element: &Element,
) -> Result<Map<String, Value>, MalformedResponse> {
    let mut out = Map::new();
    for (name, member) in shape.members.iter() {
        if member.location.is_some() {
            continue;
        }
        let target = service.shape(&member.shape).map_err(corrupt)?;
        let wire = member.location_name.as_deref().unwrap_or(name);
        let value = if member.xml_attribute {
            // `xsi:type` is matched by its local name, as the tree drops prefixes.
            let local = wire.rsplit_once(':').map_or(wire, |(_, l)| l);
            match element.attribute(local) {
                Some(text) => scalar::from_text(target, text)?,
                None => None,
            }
        } else if member.flattened || target.flattened {
            match target.kind {
                ShapeKind::List => {
                    let item = target.member.as_ref().ok_or_else(|| corrupt("list without member"))?;
                    // As `query` names flattened lists: the member's name, else the item's.
                    let wire = member.location_name.as_deref().or(item.location_name.as_deref()).unwrap_or(name);
                    let mut items = element.children_named(wire).peekable();
                    if items.peek().is_none() { None } else { Some(decode_items(service, item, items)?) }
                }
                ShapeKind::Map => {
                    let mut entries = element.children_named(wire).peekable();
                    if entries.peek().is_none() { None } else { Some(decode_entries(service, target, entries)?) }
                }
                _ => match element.child(wire) {
                    Some(child) => decode_shape(service, target, child)?,
                    None => None,
                },
            }
        } else {
            match element.child(wire) {
                Some(child) => decode_shape(service, target, child)?,
                None => None,
            }
        };
        if let Some(value) = value {
            out.insert(name.to_owned(), value);
        }
    }
    Ok(out)
}

fn decode_items<'a>(
    service: &Service,
    item: &Member,
    elements: impl Iterator<Item = &'a Element>,
) -> Result<Value, MalformedResponse> {
    let shape = service.shape(&item.shape).map_err(corrupt)?;
    let mut out = Vec::new();
    for element in elements {
        // An empty scalar item is still an item: an empty string, or null for a number.
        out.push(decode_shape(service, shape, element)?.unwrap_or(Value::Null));
    }
    Ok(Value::Array(out))
}

fn decode_entries<'a>(
    service: &Service,
    map: &Shape,
    entries: impl Iterator<Item = &'a Element>,
) -> Result<Value, MalformedResponse> {
    let (Some(key), Some(value)) = (&map.key, &map.value) else { return Err(corrupt("map without key or value")) };
    let key_name = key.location_name.as_deref().unwrap_or("key");
    let value_name = value.location_name.as_deref().unwrap_or("value");
    let value_shape = service.shape(&value.shape).map_err(corrupt)?;
    let mut out = Map::new();
    for entry in entries {
        let k = entry.child_text(key_name).ok_or_else(|| corrupt(format!("map entry without <{key_name}>")))?;
        let v = match entry.child(value_name) {
            Some(v) => decode_shape(service, value_shape, v)?.unwrap_or(Value::Null),
            None => Value::Null,
        };
        out.insert(k.to_owned(), v);
    }
    Ok(Value::Object(out))
}

fn model(e: impl std::fmt::Display) -> InvalidParameters {
    InvalidParameters(e.to_string())
}

/// Writes `value` as the element `name` of the shape `member` refers to. `path` names the
/// parameter in errors.
pub fn encode(
    service: &Service,
    w: &mut Writer,
    member: &Member,
    name: &str,
    value: &Value,
    path: &str,
) -> Result<(), InvalidParameters> {
    let shape = service.shape(&member.shape).map_err(model)?;
    let namespace = member.xml_namespace.as_ref().or(shape.xml_namespace.as_ref());
    let ns = namespace.map(|n| (n.attribute(), n.uri().to_owned()));
    match shape.kind {
        ShapeKind::Structure => {
            let object = value.as_object().ok_or_else(|| InvalidParameters(format!("{path}: expected an object")))?;
            encode_structure(service, w, shape, object, name, ns, path)
        }
        ShapeKind::List => {
            let items = value.as_array().ok_or_else(|| InvalidParameters(format!("{path}: expected an array")))?;
            let item = shape.member.as_ref().ok_or_else(|| model("list without member"))?;
            let flattened = member.flattened || shape.flattened;
            let item_name = match (flattened, &item.location_name) {
                (true, Some(n)) if member.location_name.is_none() => n.as_str(),
                (true, _) => name,
                (false, n) => n.as_deref().unwrap_or("member"),
            };
            if !flattened {
                open(w, name, ns.as_ref(), &[]);
            }
            for (i, v) in items.iter().enumerate() {
                encode(service, w, item, item_name, v, &format!("{path}[{i}]"))?;
            }
            if !flattened {
                w.close(name);
            }
            Ok(())
        }
        ShapeKind::Map => {
            let object = value.as_object().ok_or_else(|| InvalidParameters(format!("{path}: expected an object")))?;
            let (Some(key), Some(val)) = (&shape.key, &shape.value) else { return Err(model("map without key")) };
            let flattened = member.flattened || shape.flattened;
            let entry = if flattened { name } else { "entry" };
            if !flattened {
                open(w, name, ns.as_ref(), &[]);
            }
            for (k, v) in object {
                w.open(entry, &[]);
                encode(
                    service,
                    w,
                    key,
                    key.location_name.as_deref().unwrap_or("key"),
                    &Value::String(k.clone()),
                    path,
                )?;
                encode(service, w, val, val.location_name.as_deref().unwrap_or("value"), v, &format!("{path}.{k}"))?;
                w.close(entry);
            }
            if !flattened {
                w.close(name);
            }
            Ok(())
        }
        _ => {
            let format = scalar::timestamp_format(Some(member), shape, Format::Iso8601);
            let text = scalar::to_text(shape, format, value, path)?;
            open(w, name, ns.as_ref(), &[]);
            w.text(&text);
            w.close(name);
            Ok(())
        }
    }
}

fn open(w: &mut Writer, name: &str, ns: Option<&(String, String)>, extra: &[(String, String)]) {
    let mut attributes: Vec<(&str, &str)> = ns.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    attributes.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    w.open(name, &attributes);
}

/// Writes the members of `object` that the body carries (those without an HTTP `location`)
/// as the element `name` with the namespace `ns` (attribute name, URI). Unknown members are
/// refused: the API does not have them.
pub fn encode_structure(
    service: &Service,
    w: &mut Writer,
    shape: &Shape,
    object: &Map<String, Value>,
    name: &str,
    ns: Option<(String, String)>,
    path: &str,
) -> Result<(), InvalidParameters> {
    let child_path = |k: &str| if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") };
    if let Some(unknown) = object.keys().find(|k| shape.members.get(k).is_none()) {
        return Err(InvalidParameters(format!("{}: no such member", child_path(unknown))));
    }
    let mut attributes = Vec::new();
    for (k, m) in shape.members.iter().filter(|(_, m)| m.xml_attribute) {
        if let Some(v) = object.get(k).filter(|v| !v.is_null()) {
            let target = service.shape(&m.shape).map_err(model)?;
            let text = scalar::to_text(target, Format::Iso8601, v, &child_path(k))?;
            attributes.push((m.location_name.clone().unwrap_or_else(|| k.to_owned()), text));
        }
    }
    open(w, name, ns.as_ref(), &attributes);
    for (k, m) in shape.members.iter() {
        if m.xml_attribute || m.location.is_some() {
            continue;
        }
        let Some(v) = object.get(k).filter(|v| !v.is_null()) else { continue };
        encode(service, w, m, m.location_name.as_deref().unwrap_or(k), v, &child_path(k))?;
    }
    w.close(name);
    Ok(())
}
