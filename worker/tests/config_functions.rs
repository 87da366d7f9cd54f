//! The functions file: what it accepts, its defaults, and errors that name the file and key.

use std::path::Path;

use worker::integrations::config::{ConfigError, DEFAULT_TIMEOUT_SECONDS, FunctionsFile, Implementation};

const DIR: &str = "/srv/fns";

fn parse(text: &str) -> Result<FunctionsFile, ConfigError> {
    FunctionsFile::parse(text, &Path::new(DIR).join("functions.toml"))
}

/// The error for `text`, which must name the file and `key`, and contain `message`.
fn check_error(text: &str, key: &str, message: &str) {
    let error = parse(text).expect_err(text);
    let shown = error.to_string();
    assert!(shown.starts_with("/srv/fns/functions.toml: "), "{shown}");
    match &error {
        ConfigError::Invalid { key: k, .. } => assert_eq!(k, key, "{shown}"),
        other => panic!("expected an invalid key, got {other:?}"),
    }
    assert!(shown.contains(message), "{shown:?} should contain {message:?}");
}

#[test]
fn every_kind_of_function_with_its_settings() {
    let file = parse(
        r#"
        [functions.price]
        command = ["python3", "dmap_runtime.py", "price:price"]
        timeout_seconds = 30
        concurrency = 4
        env = { CURRENCY = "EUR", RETRIES = 3, DEBUG = true }
        working_dir = "handlers"

        [functions.resize]
        command = ["bin/resize", "--fast"]
        per_invocation = true

        [functions.quote]
        url = "http://127.0.0.1:8080/quote"

        [connections.api]
        type = "api_key"
        key_env = "API_KEY"

        [http]
        allow_hosts = ["example.com"]

        [buckets]
        data = "data"
        "#,
    )
    .unwrap();
    assert_eq!(file.functions.keys().collect::<Vec<_>>(), ["price", "quote", "resize"]);

    let price = file.function("price").unwrap();
    let Implementation::Command { command, per_invocation } = &price.implementation else { panic!() };
    assert_eq!(command, &["python3", "dmap_runtime.py", "price:price"], "a bare program is looked up on PATH");
    assert!(!per_invocation);
    assert_eq!((price.timeout_seconds, price.concurrency_or(1)), (30, 4));
    assert_eq!(price.env["CURRENCY"], "EUR");
    assert_eq!(price.env["RETRIES"], "3");
    assert_eq!(price.env["DEBUG"], "true");
    assert_eq!(price.working_dir, Path::new("/srv/fns/handlers"));

    let resize = file.function("resize").unwrap();
    let Implementation::Command { command, per_invocation } = &resize.implementation else { panic!() };
    assert_eq!(command, &["/srv/fns/bin/resize", "--fast"], "a program path is taken from the file's directory");
    assert!(per_invocation);
    assert_eq!(resize.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
    assert_eq!(resize.concurrency, None);
    assert_eq!(resize.working_dir, Path::new(DIR));
    assert!(resize.env.is_empty());

    let quote = file.function("quote").unwrap();
    assert_eq!(quote.implementation, Implementation::Url { url: "http://127.0.0.1:8080/quote".into() });

    assert_eq!(file.connections["api"]["key_env"].as_str(), Some("API_KEY"));
    assert_eq!(file.http.unwrap()["allow_hosts"][0].as_str(), Some("example.com"));
}

#[test]
fn an_empty_file_has_no_functions() {
    let file = parse("").unwrap();
    assert!(file.functions.is_empty() && file.connections.is_empty() && file.http.is_none());
}

#[test]
fn mistakes_name_the_file_and_the_key() {
    let shape = "`command` must be a non-empty array of strings";
    check_error("[functions.resize]\ncommand = \"resize.sh\"", "functions.resize", shape);
    check_error("[functions.resize]\ncommand = []", "functions.resize", shape);
    check_error("[functions.resize]\ncommand = [\"\"]", "functions.resize", shape);
    check_error("[functions.resize]\ncommand = [\"a\", 1]", "functions.resize", shape);
    check_error("[functions.f]\n", "functions.f", "needs `command`");
    check_error("[functions.f]\ncommand = [\"a\"]\nurl = \"http://x\"", "functions.f", "not both");
    check_error("[functions.f]\nurl = \"http://x\"\nper_invocation = true", "functions.f", "`command` functions only");
    check_error("[functions.f]\ncommand = [\"a\"]\nper_invocation = 1", "functions.f", "boolean");
    check_error("[functions.f]\nurl = \"ftp://x\"", "functions.f", "http:// or https://");
    check_error("[functions.f]\nurl = \"not a url\"", "functions.f", "not a valid URL");
    check_error("[functions.f]\ncommand = [\"a\"]\ntimeout_seconds = 0", "functions.f", "positive integer");
    check_error("[functions.f]\ncommand = [\"a\"]\ntimeout_seconds = 1.5", "functions.f", "positive integer");
    check_error("[functions.f]\ncommand = [\"a\"]\nconcurrency = -2", "functions.f", "positive integer");
    check_error("[functions.f]\ncommand = [\"a\"]\nenv = [\"A=1\"]", "functions.f", "`env` must be a table");
    check_error("[functions.f]\ncommand = [\"a\"]\nenv = { A = [1] }", "functions.f", "`env.A`");
    check_error("[functions.f]\ncommand = [\"a\"]\nworking_dir = 3", "functions.f", "`working_dir`");
    check_error("[functions.f]\ncommand = [\"a\"]\ntimeout = 3", "functions.f", "unknown key `timeout`");
    check_error("[functions.\"a:b\"]\ncommand = [\"a\"]", "functions.a:b", "function name");
    check_error("functions = 3", "functions", "must be a table");
    check_error("[functions]\nf = 1", "functions.f", "must be a table");
    check_error("[function.f]\ncommand = [\"a\"]", "function", "unknown table");
}

#[test]
fn syntax_errors_and_missing_files_name_the_file() {
    let error = parse("[functions.f\n").unwrap_err();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error:?}");
    assert!(error.to_string().starts_with("/srv/fns/functions.toml: not valid TOML"));

    let missing = Path::new("/nonexistent/functions.toml");
    let error = FunctionsFile::load(missing).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("/nonexistent/functions.toml"));
}

#[test]
fn a_file_named_without_a_directory_resolves_against_the_current_one() {
    let file = FunctionsFile::parse("[functions.f]\ncommand = [\"./f.sh\"]", Path::new("functions.toml")).unwrap();
    let here = std::env::current_dir().unwrap();
    let f = file.function("f").unwrap();
    assert_eq!(f.working_dir, here);
    let Implementation::Command { command, .. } = &f.implementation else { panic!() };
    assert_eq!(Path::new(&command[0]), here.join("f.sh"));
}
