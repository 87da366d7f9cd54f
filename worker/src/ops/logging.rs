//! Logging: the `--log-format` and `--log-level` options and the global `tracing` subscriber
//! they install, writing to stderr as text for people or as one JSON object per line for log
//! collectors.
//!
//! Only binaries call [`LogArgs::init`]; library code logs through `tracing` and never installs
//! a subscriber.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How each log line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// `2025-01-01T00:00:00.000000Z  INFO worker: message key=value`
    #[default]
    Text,
    /// `{"timestamp":"…","level":"INFO","target":"worker","message":"…","key":"value"}`
    Json,
}

/// Logging options shared by the binaries.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log line format: text for people, json for log collectors (one JSON object per line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "DMAP_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `worker=debug`.
    #[arg(long, default_value = "info", env = "DMAP_LOG")]
    pub log_level: String,
}

impl LogArgs {
    /// Installs a global tracing subscriber writing to stderr. An invalid filter is an error
    /// naming it; when a subscriber is already installed (a second call) the first one stays
    /// and this returns Ok.
    pub fn init(&self) -> Result<(), String> {
        let subscriber = self.subscriber(std::io::stderr, std::io::stderr().is_terminal())?;
        // The only failure left is "a global default is already set", which is harmless.
        let _ = tracing::subscriber::set_global_default(subscriber);
        Ok(())
    }

    /// The subscriber [`LogArgs::init`] installs, writing to `writer`; colours only if `ansi`.
    fn subscriber<W>(&self, writer: W, ansi: bool) -> Result<Box<dyn tracing::Subscriber + Send + Sync>, String>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let filter = EnvFilter::builder()
            .parse(&self.log_level)
            .map_err(|e| format!("invalid log filter {:?} (--log-level or DMAP_LOG): {e}", self.log_level))?;
        let builder = tracing_subscriber::fmt().with_writer(writer).with_env_filter(filter);
        Ok(match self.log_format {
            LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
            LogFormat::Json => {
                Box::new(builder.json().flatten_event(true).with_current_span(true).with_span_list(false).finish())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("buffer").clone()).expect("UTF-8 log output")
        }
    }

    fn args(format: LogFormat, level: &str) -> LogArgs {
        LogArgs { log_format: format, log_level: level.to_string() }
    }

    fn log_with(args: &LogArgs, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let subscriber = args.subscriber(buffer.clone(), false).expect("a valid filter");
        tracing::subscriber::with_default(subscriber, emit);
        buffer.text()
    }

    #[test]
    fn json_lines_carry_timestamp_level_target_message_and_fields() {
        let out = log_with(&args(LogFormat::Json, "info"), || {
            tracing::info!(target: "worker::test", batch = 7, map_run = "mr-1", "batch done");
            tracing::debug!(target: "worker::test", "filtered out");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "one JSON object per line, debug filtered out: {out}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
        assert!(v["timestamp"].as_str().is_some_and(|t| t.contains('T')), "{v}");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "worker::test");
        assert_eq!(v["message"], "batch done");
        assert_eq!(v["batch"], 7);
        assert_eq!(v["map_run"], "mr-1");
    }

    #[test]
    fn text_lines_have_no_colours_when_not_a_terminal() {
        let out = log_with(&args(LogFormat::Text, "worker=debug"), || {
            tracing::debug!(target: "worker::test", attempt = 2, "retrying");
            tracing::info!(target: "other", "filtered out");
        });
        assert!(!out.contains('\u{1b}'), "no ANSI escapes: {out:?}");
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("DEBUG") && out.contains("worker::test") && out.contains("retrying attempt=2"), "{out}");
    }

    #[test]
    fn an_invalid_filter_is_an_error_naming_it() {
        let e = args(LogFormat::Text, "worker=loud").init().expect_err("an invalid level");
        assert!(e.contains("worker=loud"), "{e}");
    }

    #[test]
    fn init_twice_is_harmless() {
        // "off": the global subscriber outlives this test, and the other tests of this
        // process should not write to stderr through it.
        args(LogFormat::Json, "off").init().expect("first");
        args(LogFormat::Text, "off").init().expect("second");
    }
}
