//! The code of a service's error as the model names it. Services send a wire code that is
//! usually the error shape's name, but some declare another (`error.code`: SNS's wire code
//! `NotFound` is the shape `NotFoundException`), and JSON
//! services may qualify it (`com.amazon.coral.service#Foo`, `Foo:http://…`).
//!
//! Owns: wire code → shape name. Must not: add Step Functions' prefix (the caller does).

use crate::integrations::aws::model::Service;

/// The error shape's name for `wire`, or `wire` without any namespace when no shape claims it.
pub fn modelled(service: &Service, wire: &str) -> String {
    let bare = wire.rsplit_once('#').map_or(wire, |(_, c)| c);
    let bare = bare.split_once(':').map_or(bare, |(c, _)| c).trim();
    let declared = service.shapes.iter().find(|(_, s)| {
        s.exception && s.error.as_ref().and_then(|e| e.code.as_deref()).is_some_and(|c| c == wire || c == bare)
    });
    if let Some((name, _)) = declared {
        return name.clone();
    }
    bare.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::aws::model::service;

    #[test]
    fn a_declared_wire_code_names_its_shape_and_others_lose_their_namespace() {
        let sns = service("sns").unwrap();
        // SNS declares `NotFound` as the wire code of its `NotFoundException`.
        assert_eq!(modelled(&sns, "NotFound"), "NotFoundException");
        assert_eq!(modelled(&sns, "InvalidParameter"), "InvalidParameterException");
        assert_eq!(modelled(&sns, "Throttling"), "Throttling");
        assert_eq!(modelled(&sns, "aws.protocoltests#Weird:http://internal"), "Weird");
    }
}
