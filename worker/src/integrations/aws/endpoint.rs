//! Where a service's calls go and which region they are signed for, by AWS's own conventions.
//!
//! Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`.
//! Endpoint, first match wins (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` or the
//! profile's `ignore_configured_endpoint_urls = true`, which skip 1–4):
//! 1. `AWS_ENDPOINT_URL_<SERVICE>`: the serviceId upper-cased, spaces and hyphens as `_`
//!    (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`);
//! 2. `AWS_ENDPOINT_URL`;
//! 3. `endpoint_url` of the service in the profile's `services` section (key: the serviceId
//!    lower-cased, spaces as `_`);
//! 4. the profile's `endpoint_url`;
//! 5. AWS: the model's global endpoint when it has one (IAM, Route 53, CloudFront… signed
//!    for its region), else `https://{endpointPrefix}.{region}.amazonaws.com`
//!    (`.amazonaws.com.cn` in China's regions).
//!
//! Owns: that resolution. Must not: read files (`profile` does) or send anything.

use super::model::Service;
use super::profile::{Env, Profiles};

/// The default region when nothing names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A service's endpoint and signing region.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `scheme://host[:port][/path]`, without a trailing slash.
    pub url: String,
    pub signing_region: String,
    /// Whether the URL came from configuration (a local endpoint, usually) rather than AWS.
    pub configured: bool,
}

/// The region calls are made in.
pub fn region(env: &Env, profiles: &Profiles) -> String {
    env.get("AWS_REGION")
        .or(env.get("AWS_DEFAULT_REGION"))
        .or(profiles.get("region"))
        .unwrap_or(DEFAULT_REGION)
        .to_owned()
}

/// The endpoint of `service` in `region`.
pub fn resolve(service: &Service, region: &str, env: &Env, profiles: &Profiles) -> Endpoint {
    let ignore = env
        .get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .or(profiles.get("ignore_configured_endpoint_urls"))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        let env_name = format!("AWS_ENDPOINT_URL_{}", service.service_id.to_ascii_uppercase().replace([' ', '-'], "_"));
        let section_key = service.service_id.to_ascii_lowercase().replace(' ', "_");
        let configured = env
            .get(&env_name)
            .or(env.get("AWS_ENDPOINT_URL"))
            .or_else(|| profiles.service(&section_key)?.get("endpoint_url").map(String::as_str))
            .or(profiles.get("endpoint_url"))
            .filter(|u| !u.is_empty());
        if let Some(url) = configured {
            return Endpoint {
                url: url.trim_end_matches('/').to_owned(),
                signing_region: region.to_owned(),
                configured: true,
            };
        }
    }
    if let Some(global) = &service.global {
        return Endpoint {
            url: format!("https://{}", global.hostname),
            signing_region: global.region.clone(),
            configured: false,
        };
    }
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    Endpoint {
        url: format!("https://{}.{region}.{suffix}", service.endpoint_prefix),
        signing_region: region.to_owned(),
        configured: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::aws::model;

    fn files(config: &str) -> (tempfile::TempDir, Vec<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, config).unwrap();
        let env = vec![
            ("AWS_CONFIG_FILE".to_string(), path.to_str().unwrap().to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE".to_string(), dir.path().join("none").to_str().unwrap().to_string()),
        ];
        (dir, env)
    }

    fn at(config: &str, vars: &[(&str, &str)], service: &str) -> Endpoint {
        let (_dir, mut env) = files(config);
        env.extend(vars.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        let env = Env::from_pairs(env);
        let profiles = Profiles::load(&env);
        resolve(&model::service(service).unwrap(), &region(&env, &profiles), &env, &profiles)
    }

    const CONFIG: &str = "[default]\nregion = eu-west-3\nendpoint_url = http://profile:1\nservices = local\n\
                          [services local]\ncloudwatch_logs =\n  endpoint_url = http://logs-section:2\n";

    #[test]
    fn the_service_variable_wins_then_the_general_one_then_the_profile() {
        let vars = [("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:3/"), ("AWS_ENDPOINT_URL", "http://all:4")];
        assert_eq!(at(CONFIG, &vars, "dynamodb").url, "http://ddb:3");
        assert_eq!(at(CONFIG, &vars, "sqs").url, "http://all:4");
        assert_eq!(
            at(CONFIG, &[("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://logs:5")], "cloudwatchlogs").url,
            "http://logs:5"
        );
        assert_eq!(at(CONFIG, &[], "cloudwatchlogs").url, "http://logs-section:2");
        let e = at(CONFIG, &[], "sqs");
        assert_eq!((e.url.as_str(), e.signing_region.as_str(), e.configured), ("http://profile:1", "eu-west-3", true));
    }

    #[test]
    fn without_configuration_calls_go_to_aws_in_the_region() {
        let e = at("", &[("AWS_DEFAULT_REGION", "ap-south-1")], "dynamodb");
        assert_eq!(
            (e.url.as_str(), e.signing_region.as_str(), e.configured),
            ("https://dynamodb.ap-south-1.amazonaws.com", "ap-south-1", false)
        );
        let e = at("", &[("AWS_REGION", "cn-north-1"), ("AWS_DEFAULT_REGION", "ap-south-1")], "sqs");
        assert_eq!(e.url, "https://sqs.cn-north-1.amazonaws.com.cn");
        assert_eq!(at("", &[], "ssm").url, "https://ssm.us-east-1.amazonaws.com");
        // IAM has one endpoint for every region, signed for us-east-1.
        let e = at("", &[("AWS_REGION", "eu-west-1")], "iam");
        assert_eq!((e.url.as_str(), e.signing_region.as_str()), ("https://iam.amazonaws.com", "us-east-1"));
    }

    #[test]
    fn ignoring_configured_endpoints_leaves_aws_s_own() {
        let vars = [("AWS_ENDPOINT_URL", "http://all:4"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")];
        assert_eq!(at(CONFIG, &vars, "dynamodb").url, "https://dynamodb.eu-west-3.amazonaws.com");
    }
}
