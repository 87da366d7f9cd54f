//! A small XML tree for AWS's XML protocols (awsQuery, ec2, restXml): a response body becomes
//! an [`Element`] tree, and request bodies are written with [`Writer`]. AWS's documents are
//! small and read once, so a tree is simpler than streaming and costs nothing that matters.
//!
//! Owns: tokenising (by `quick-xml`), entity and character-reference resolution, namespace
//! prefixes dropped from names, escaping on output. Must not: know shapes; `xml_shape` turns
//! trees into JSON by the model and back.

use quick_xml::escape::{escape, resolve_predefined_entity, unescape};
use quick_xml::events::Event;

use super::MalformedResponse;

/// An element: its local name (any `prefix:` dropped), attributes by local name, child
/// elements in order, and its text (the concatenation of its direct text and CDATA).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => name.into_owned(),
    }
}

fn malformed(e: impl std::fmt::Display) -> MalformedResponse {
    MalformedResponse(format!("XML: {e}"))
}

fn open(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, MalformedResponse> {
    let mut element = Element { name: local(start.name().as_ref()), ..Element::default() };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(malformed)?;
        let key = attribute.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let raw = String::from_utf8_lossy(&attribute.value);
        let value = unescape(&raw).map_err(malformed)?.into_owned();
        element.attributes.push((local(key), value));
    }
    Ok(element)
}

/// Parses a document into its root element. Whitespace-only text between elements is kept in
/// `text` of the parent, so callers trim where the protocol says text is not significant.
pub fn parse(body: &[u8]) -> Result<Element, MalformedResponse> {
    let text = String::from_utf8_lossy(body);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Start(start) => stack.push(open(&start)?),
            Event::Empty(start) => {
                let element = open(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content().map_err(malformed)?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content().map_err(malformed)?);
                }
            }
            Event::GeneralRef(r) => {
                let Some(top) = stack.last_mut() else { continue };
                if let Some(c) = r.resolve_char_ref().map_err(malformed)? {
                    top.text.push(c);
                } else {
                    let name = r.decode().map_err(malformed)?;
                    let value = resolve_predefined_entity(&name)
                        .ok_or_else(|| malformed(format!("unknown entity &{name};")))?;
                    top.text.push_str(value);
                }
            }
            Event::Eof => return Err(malformed("no root element")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Writes an XML document into a string, escaping text and attribute values.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// `<name attr="v" …>`; attribute values are escaped.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attributes {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(*v));
            self.out.push('"');
        }
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn text(&mut self, text: &str) {
        self.out.push_str(&escape(text));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_becomes_a_tree_with_entities_resolved_and_prefixes_dropped() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<a:Root xmlns:a="urn:x" xmlns="urn:y" b:id="7"><Item>x &amp; y &#65;&#x42;</Item><Empty/><C><![CDATA[<raw>]]></C></a:Root>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attributes, vec![("id".to_owned(), "7".to_owned())]);
        assert_eq!(root.child_text("Item"), Some("x & y AB"));
        assert_eq!(root.child_text("Empty"), Some(""));
        assert_eq!(root.child_text("C"), Some("<raw>"));
        assert_eq!(root.children.len(), 3);
    }

    #[test]
    fn broken_documents_are_malformed() {
        assert!(parse(b"").is_err());
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>&nosuch;</a>").is_err());
    }

    #[test]
    fn the_writer_escapes_text_and_attributes() {
        let mut w = Writer::default();
        w.open("A", &[("xmlns", "urn:\"q\"")]);
        w.text("1 < 2 & 3");
        w.close("A");
        assert_eq!(w.finish(), r#"<A xmlns="urn:&quot;q&quot;">1 &lt; 2 &amp; 3</A>"#);
    }
}
