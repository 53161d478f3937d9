//! `GRAPHQL_TRUSTED_DOCUMENTS`: the allow-list of the only operations a production server runs,
//! read once at start. A file that cannot be read or parsed refuses the start, naming the file
//! and the line or entry at fault.
//!
//! An operation is named by the SHA-256 of its document text (lower-case hex), the hash Apollo's
//! and urql's persisted-query links send. The file is one of:
//! - text: one hash per line; blank lines and lines starting with `#` are skipped;
//! - JSON, an object of hash → document (GraphQL Code Generator's `persisted-documents.json`);
//! - JSON, Apollo's persisted query manifest (`{"format": "apollo-persisted-query-manifest",
//!   "operations": [{"id", "body", …}]}`);
//! - JSON, an array of hashes.
//!
//! Where the file gives documents, each must hash to its id, and clients may then send the hash
//! alone from their first request on.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use sha2::{Digest, Sha256};

use super::ConfigError;

/// The allow-list: the hashes, and the documents the file gave.
#[derive(Debug, Clone)]
pub struct TrustedDocuments {
    /// The file it was read from (for log lines).
    pub path: PathBuf,
    hashes: HashSet<String>,
    documents: HashMap<String, Arc<str>>,
}

/// The SHA-256 of `document` as lower-case hex: an operation's name in persisted queries.
pub fn document_hash(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

impl TrustedDocuments {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let refuse = |why: String| {
            ConfigError(format!(
                "GRAPHQL_TRUSTED_DOCUMENTS file {}: {why}",
                path.display()
            ))
        };
        let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
        let (hashes, documents) = parse(&text).map_err(refuse)?;
        Ok(TrustedDocuments {
            path: path.to_path_buf(),
            hashes,
            documents,
        })
    }

    /// Whether the operation with this hash may run.
    pub fn allows(&self, hash: &str) -> bool {
        self.hashes.contains(hash)
    }

    /// The document of `hash`, when the file gave it.
    pub fn document(&self, hash: &str) -> Option<Arc<str>> {
        self.documents.get(hash).cloned()
    }

    /// How many operations are allowed.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

type Parsed = (HashSet<String>, HashMap<String, Arc<str>>);

fn parse(text: &str) -> Result<Parsed, String> {
    let parsed = match text.trim_start().chars().next() {
        Some('{' | '[') => parse_json(text)?,
        _ => (parse_lines(text)?, HashMap::new()),
    };
    if parsed.0.is_empty() {
        return Err(
            "it lists no operation (an empty allow-list would refuse every request)".into(),
        );
    }
    Ok(parsed)
}

fn parse_lines(text: &str) -> Result<HashSet<String>, String> {
    let mut hashes = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        hashes.insert(checked_hash(line).map_err(|why| format!("line {}: {why}", n + 1))?);
    }
    Ok(hashes)
}

fn parse_json(text: &str) -> Result<Parsed, String> {
    use serde_json::Value;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut hashes = HashSet::new();
    let mut documents = HashMap::new();
    let mut add = |id: &str, body: Option<&str>| -> Result<(), String> {
        let hash = checked_hash(id)?;
        if let Some(body) = body {
            if document_hash(body) != hash {
                return Err(format!("the document of {hash} does not hash to it"));
            }
            documents.insert(hash.clone(), Arc::from(body));
        }
        hashes.insert(hash);
        Ok(())
    };
    match &value {
        Value::Array(ids) => {
            for id in ids {
                add(
                    id.as_str().ok_or("every entry must be a hash string")?,
                    None,
                )?;
            }
        }
        Value::Object(o) if o.get("format").and_then(Value::as_str) == Some(APOLLO_MANIFEST) => {
            let operations = o
                .get("operations")
                .and_then(Value::as_array)
                .ok_or("an Apollo manifest needs an `operations` array")?;
            for op in operations {
                let id = op.get("id").and_then(Value::as_str);
                let body = op.get("body").and_then(Value::as_str);
                let (Some(id), Some(body)) = (id, body) else {
                    return Err("every operation needs a string `id` and `body`".into());
                };
                add(id, Some(body))?;
            }
        }
        Value::Object(o) => {
            for (id, body) in o {
                let body = body
                    .as_str()
                    .ok_or_else(|| format!("the document of {id} must be a string"))?;
                add(id, Some(body))?;
            }
        }
        _ => return Err("expected an object or an array".into()),
    }
    Ok((hashes, documents))
}

const APOLLO_MANIFEST: &str = "apollo-persisted-query-manifest";

fn checked_hash(raw: &str) -> Result<String, String> {
    let hash = raw.trim().to_ascii_lowercase();
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash)
    } else {
        Err(format!(
            "`{raw}` is not a SHA-256 hash (64 hexadecimal digits)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{ marketState { isOpen } }";

    #[test]
    fn reads_every_format() {
        let hash = document_hash(DOC);
        let text = format!("# trusted\n\n{}\n", hash.to_uppercase());
        let (hashes, docs) = parse(&text).unwrap();
        assert!(hashes.contains(&hash) && docs.is_empty());

        let map = serde_json::json!({ &hash: DOC }).to_string();
        let (hashes, docs) = parse(&map).unwrap();
        assert!(hashes.contains(&hash));
        assert_eq!(docs.get(&hash).map(|d| &**d), Some(DOC));

        let apollo = serde_json::json!({
            "format": APOLLO_MANIFEST, "version": 1,
            "operations": [{ "id": &hash, "body": DOC, "name": "M", "type": "query" }]
        })
        .to_string();
        assert!(parse(&apollo).unwrap().1.contains_key(&hash));

        let array = serde_json::json!([&hash]).to_string();
        assert!(parse(&array).unwrap().0.contains(&hash));
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        let err = parse("# header\nnot-a-hash\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(parse("# nothing\n").unwrap_err().contains("no operation"));
        let wrong = serde_json::json!({ document_hash("{ other }"): DOC }).to_string();
        assert!(parse(&wrong).unwrap_err().contains("does not hash"));
        assert!(parse("{ nope").unwrap_err().contains("JSON"));
    }

    #[test]
    fn a_missing_file_names_itself() {
        let err = TrustedDocuments::load(Path::new("/nonexistent/trusted.txt")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/trusted.txt"),
            "{err}"
        );
    }
}
