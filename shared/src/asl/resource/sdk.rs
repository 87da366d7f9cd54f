//! The AWS SDK integrations (`arn:aws:states:::aws-sdk:SERVICE:ACTION`): every service and
//! action of the embedded catalogue (`aws-sdk-catalogue.txt`, written by
//! `scripts/refresh-aws-models` from botocore), read once, on first use.
//!
//! A service is named by its serviceId, lower case, without separators (`dynamodb`,
//! `cloudwatchlogs`, `sfn`); AWS's table names a few by the AWS SDK for Java 2.x client instead,
//! which [`ALIASES`] maps. An action is the operation's name in lowerCamel (`GetObject` →
//! `getObject`). Owns the lookup; must not know how a call is made.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const CATALOGUE: &str = include_str!("aws-sdk-catalogue.txt");

/// Resource names that differ from the catalogue's: AWS's "AWS SDK service integrations" table
/// (the first five) and the AWS SDK for Java 2.x client names it follows (the rest).
const ALIASES: &[(&str, &str)] = &[
    ("applicationdiscovery", "applicationdiscoveryservice"),
    ("databasemigration", "databasemigrationservice"),
    ("directory", "directoryservice"),
    ("elasticsearch", "elasticsearchservice"),
    ("lexmodelbuilding", "lexmodelbuildingservice"),
    ("config", "configservice"),
    ("costandusagereport", "costandusagereportservice"),
    ("lexruntime", "lexruntimeservice"),
    ("marketplaceentitlement", "marketplaceentitlementservice"),
];

/// Actions AWS's "AWS SDK service integrations" page lists as unsupported (service, action).
const UNSUPPORTED: &[(&str, &str)] = &[
    ("comprehendmedical", "detectEntities"),
    ("efs", "createTags"),
    ("emr", "describeJobFlows"),
    ("iotdeviceadvisor", "listTestCases"),
    ("kinesis", "subscribeToShard"),
    ("lambda", "invokeAsync"),
    ("lexruntimev2", "startConversation"),
    ("mediapackage", "rotateChannelCredentials"),
    ("rds", "executeSql"),
    ("s3", "selectObjectContent"),
    ("s3control", "selectObjectContent"),
    ("shield", "deleteSubscription"),
];

/// Whether AWS refuses this (existing) action of a service.
pub fn is_unsupported(service: &SdkService, action: &str) -> bool {
    UNSUPPORTED.contains(&(service.name, action))
}

/// The wire protocol a service speaks, as the catalogue names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    RestJson,
    Query,
    Ec2,
    RestXml,
    /// `smithy-rpc-v2-cbor`: not spoken by dmap yet.
    RpcV2Cbor,
}

/// One service of the catalogue.
#[derive(Debug)]
pub struct SdkService {
    /// The catalogue's name (the model's lookup key).
    pub name: &'static str,
    /// The prefix of its error names (`DynamoDb`, `S3`, `Sfn`).
    pub error_prefix: &'static str,
    pub protocol: Protocol,
    /// Actions in lowerCamel.
    actions: HashSet<String>,
}

impl SdkService {
    pub fn has_action(&self, action: &str) -> bool {
        self.actions.contains(action)
    }

    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(String::as_str)
    }
}

fn catalogue() -> &'static HashMap<&'static str, SdkService> {
    static MAP: OnceLock<HashMap<&'static str, SdkService>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for line in CATALOGUE.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let mut words = line.split_ascii_whitespace();
            let (Some(name), Some(error_prefix), Some(protocol)) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            let protocol = match protocol {
                "json" => Protocol::Json,
                "rest-json" => Protocol::RestJson,
                "query" => Protocol::Query,
                "ec2" => Protocol::Ec2,
                "rest-xml" => Protocol::RestXml,
                "smithy-rpc-v2-cbor" => Protocol::RpcV2Cbor,
                // A protocol this build does not know: the service stays unknown.
                _ => continue,
            };
            let actions = words.map(lower_camel).collect();
            map.insert(name, SdkService { name, error_prefix, protocol, actions });
        }
        map
    })
}

/// An operation name in lowerCamel: its first letter lower case.
fn lower_camel(op: &str) -> String {
    let mut c = op.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

/// The service a Resource names, through the aliases.
pub fn service(name: &str) -> Option<&'static SdkService> {
    let name = ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, real)| real);
    catalogue().get(name)
}

/// Every service name a Resource may write, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    catalogue().keys().copied().chain(ALIASES.iter().map(|(a, _)| *a))
}
