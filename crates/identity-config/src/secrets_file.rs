//! Reading `secrets.json`: `{"api": {...camelCase keys...}, "proxy": {...}}`.
//!
//! The layout is the official SDKs'. Keys this SDK does not know (other
//! FINBOURNE services' URLs) are ignored; an empty string or `null` counts as
//! not set. A file that is not such JSON is an error naming the file, the line
//! and the column, and never quoting the file's content.
//!
//! Only a file the caller named is read (see `env.rs`). On unix, a file that
//! group or others may read or write is read with a warning: a `tracing`
//! event at WARN naming the file and its mode, never its content.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{ConfigError, Setting, ValueSource};

/// The settings of one `secrets.json` file.
#[derive(Clone)]
pub(crate) struct SecretsFile {
    path: PathBuf,
    values: HashMap<Setting, String>,
}

#[derive(Deserialize)]
struct Layout {
    #[serde(default)]
    api: Option<Map<String, Value>>,
    #[serde(default)]
    proxy: Option<Map<String, Value>>,
}

impl SecretsFile {
    /// Reads and parses the file, which must exist; warns when others than
    /// its owner may read or change it.
    pub(crate) fn read(path: &Path) -> Result<Self, ConfigError> {
        let unreadable = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::SecretsFileNotFound {
                    path: path.to_owned(),
                }
            } else {
                ConfigError::SecretsFileUnreadable {
                    path: path.to_owned(),
                    source,
                }
            }
        };
        let mut file = File::open(path).map_err(unreadable)?;
        // The mode of the file opened, not of whatever the path names later.
        if let Ok(metadata) = file.metadata() {
            warn_if_shared(path, &metadata);
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(unreadable)?;
        Self::parse(path, &text)
    }

    /// Parses the text of the file at `path`, checking the type of every key
    /// this SDK reads (whether or not another source overrides it).
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        // Editors on Windows may start the file with a byte order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let layout: Layout =
            serde_json::from_str(text).map_err(|error| ConfigError::SecretsFileMalformed {
                path: path.to_owned(),
                line: error.line(),
                column: error.column(),
                // serde_json's own message may quote a value of the file, which
                // may be a secret: say what is wrong in our words.
                problem: match error.classify() {
                    serde_json::error::Category::Syntax => "not valid JSON",
                    serde_json::error::Category::Eof => "the JSON ends too early",
                    serde_json::error::Category::Data => {
                        "expected an object whose \"api\" and \"proxy\" are objects"
                    }
                    serde_json::error::Category::Io => "the file could not be read",
                },
            })?;
        let api = layout.api.unwrap_or_default();
        let proxy = layout.proxy.unwrap_or_default();
        let mut values = HashMap::new();
        for setting in Setting::ALL {
            let Some(key) = setting.secrets_key() else {
                continue;
            };
            let (section, name) = match key.split_once('.') {
                Some(("proxy", name)) => (&proxy, name),
                Some((_, name)) => (&api, name),
                None => (&api, key),
            };
            if let Some(value) = text_of(section.get(name), setting).map_err(|expected| {
                ConfigError::SecretsFileWrongType {
                    path: path.to_owned(),
                    key,
                    expected,
                }
            })? {
                values.insert(setting, value);
            }
        }
        Ok(Self {
            path: path.to_owned(),
            values,
        })
    }

    /// The raw value of a setting, when the file sets it.
    pub(crate) fn get(&self, setting: Setting) -> Option<(String, ValueSource)> {
        let value = self.values.get(&setting)?;
        let key = setting.secrets_key()?;
        Some((
            value.clone(),
            ValueSource::SecretsFile {
                path: self.path.clone(),
                key,
            },
        ))
    }
}

/// The permission bits that let users other than the owner read the file
/// (its secrets) or write it (and so steer the SDK: its URLs, its proxy).
#[cfg(unix)]
const SHARED_BITS: u32 = 0o066;

/// Warns, naming the file and its mode (never its content), when users other
/// than its owner may read or change it.
#[cfg(unix)]
fn warn_if_shared(path: &Path, metadata: &Metadata) {
    use std::os::unix::fs::PermissionsExt;

    let mode = metadata.permissions().mode() & 0o7777;
    if mode & SHARED_BITS != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = %format_args!("{mode:04o}"),
            "the secrets file is readable or writable by group or others: it may hold \
             credentials, and whoever can change it can redirect the SDK; make it the \
             owner's alone (chmod 600)"
        );
    }
}

/// No permission bits to check off unix.
#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _metadata: &Metadata) {}

/// A JSON value as the text of a setting: strings, and numbers for the
/// numeric settings; `null` and blank strings are no value. The error is the
/// type the value should have.
fn text_of(value: Option<&Value>, setting: Setting) -> Result<Option<String>, &'static str> {
    let numeric = setting.is_number();
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) if numeric => Ok(Some(number.to_string())),
        Some(_) if numeric => Err("a whole number"),
        Some(_) => Err("a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SecretsFile, ConfigError> {
        SecretsFile::parse(Path::new("/tmp/s.json"), text)
    }

    #[test]
    fn reads_both_sections_and_ignores_unknown_keys() {
        let file = parse(
            r#"{"api": {"tokenUrl": "https://t", "lusidUrl": "x", "totalTimeoutMs": 5,
                 "readTimeoutMs": "7", "username": ""},
                "proxy": {"address": "http://p:1"}, "other": 1}"#,
        )
        .unwrap();
        assert_eq!(file.get(Setting::TokenUrl).unwrap().0, "https://t");
        assert_eq!(file.get(Setting::TotalTimeoutMs).unwrap().0, "5");
        assert_eq!(file.get(Setting::ReadTimeoutMs).unwrap().0, "7");
        assert_eq!(file.get(Setting::ProxyAddress).unwrap().0, "http://p:1");
        assert!(file.get(Setting::Username).is_none());
        assert!(file.get(Setting::Password).is_none());
        assert!(file.get(Setting::CorrelationId).is_none());
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let file = parse("\u{feff}{\"api\": {\"clientId\": \"c\"}}").unwrap();
        assert_eq!(file.get(Setting::ClientId).unwrap().0, "c");
    }

    #[test]
    fn wrong_types_name_the_key_without_the_value() {
        let err = parse(r#"{"api": {"password": 12345678}}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("api.password") && err.contains("a string"),
            "{err}"
        );
        assert!(!err.contains("12345678"), "{err}");
        let err = parse(r#"{"api": {"totalTimeoutMs": true}}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("api.totalTimeoutMs") && err.contains("whole number"),
            "{err}"
        );
        let err = parse(r#"{"proxy": {"password": ["x"]}}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("proxy.password"), "{err}");
    }

    #[test]
    fn malformed_json_names_the_position_and_never_the_content() {
        let err = parse("{\n  \"api\": \"s3cr3t-value\"\n}").err().unwrap();
        match &err {
            ConfigError::SecretsFileMalformed { line, column, .. } => {
                assert_eq!(*line, 2);
                assert!(*column > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.to_string().contains("/tmp/s.json"), "{err}");
    }
}
