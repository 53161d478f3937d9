//! Persisted operations: Automatic Persisted Queries (Apollo's `persistedQuery` request
//! extension, `{"version": 1, "sha256Hash": "<hex>"}`) and the optional allow-list of trusted
//! documents (`GRAPHQL_TRUSTED_DOCUMENTS`).
//!
//! A client sends the hash alone; if this instance knows the document it runs it, otherwise it
//! answers `PersistedQueryNotFound` and the client sends the hash with the document, which is
//! then remembered. Documents are remembered in memory, per instance, for the
//! [`CACHE_CAPACITY`] most recently used: behind a load balancer a client may be asked for a
//! document once per instance, which the protocol expects.
//!
//! Why not async-graphql's `ApolloPersistedQueries` extension: its errors carry no code (they
//! would be reported as BAD_USER_INPUT), it hands execution a parsed document and an empty
//! query text (the document limits, the metrics and the key of a shared feed all read the
//! text), and it has no allow-list.
//!
//! Errors, each in `extensions.code`:
//! - [`PERSISTED_QUERY_NOT_FOUND`] (message `PersistedQueryNotFound`, as Apollo and urql
//!   expect): send the document with the hash;
//! - [`PERSISTED_QUERY_HASH_MISMATCH`]: the document does not hash to the hash sent with it;
//! - [`PERSISTED_QUERY_NOT_ALLOWED`]: the allow-list is on and does not hold this operation;
//! - `BAD_USER_INPUT`: the extension is malformed or not version 1.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Request, ServerError, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};
use lru::LruCache;

use super::error::coded_error;
use crate::config::{TrustedDocuments, document_hash};

/// The hash is unknown here: send it again with its document.
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// The document sent does not hash to the hash sent with it.
pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
/// The allow-list of trusted documents does not hold this operation.
pub const PERSISTED_QUERY_NOT_ALLOWED: &str = "PERSISTED_QUERY_NOT_ALLOWED";

/// Documents remembered per instance (each at most `GRAPHQL_MAX_DOCUMENT_BYTES`, 16 KiB by
/// default: at most 16 MiB).
pub const CACHE_CAPACITY: usize = 1_000;

/// The documents this instance knows by hash, and the allow-list. Cheap to clone.
#[derive(Clone)]
pub struct PersistedQueries {
    cache: Arc<Mutex<LruCache<String, Arc<str>>>>,
    trusted: Option<Arc<TrustedDocuments>>,
    /// Longer documents are refused by the document limits anyway: never remembered.
    max_document_bytes: usize,
}

/// Marks a request already expanded and checked, so the schema's extension does not hash it
/// again after a transport did.
struct Checked;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQuery {
    version: i64,
    sha256_hash: String,
}

impl PersistedQueries {
    pub fn new(trusted: Option<Arc<TrustedDocuments>>, max_document_bytes: usize) -> Self {
        let capacity = NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        PersistedQueries {
            cache: Arc::new(Mutex::new(LruCache::new(capacity))),
            trusted,
            max_document_bytes,
        }
    }

    /// `request` with its document: the hash alone is replaced by the document it names, a
    /// hash sent with its document is checked and the document remembered, and with an
    /// allow-list any operation not on it is refused.
    pub fn expand(&self, mut request: Request) -> ServerResult<Request> {
        if request
            .data
            .contains_key(&std::any::TypeId::of::<Checked>())
        {
            return Ok(request);
        }
        let Some(extension) = request.extensions.0.remove("persistedQuery") else {
            if let Some(trusted) = &self.trusted
                && !trusted.allows(&document_hash(&request.query))
            {
                return Err(not_allowed());
            }
            return Ok(request.data(Checked));
        };
        let persisted: PersistedQuery = async_graphql::from_value(extension).map_err(|_| {
            coded_error(
                "the persistedQuery extension must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}",
                "BAD_USER_INPUT",
            )
        })?;
        if persisted.version != 1 {
            return Err(coded_error(
                format!(
                    "persistedQuery version {} is not supported: only version 1",
                    persisted.version
                ),
                "BAD_USER_INPUT",
            ));
        }
        let hash = persisted.sha256_hash.to_ascii_lowercase();
        if request.query.is_empty() {
            if !self.allows(&hash) {
                return Err(not_allowed());
            }
            let document = self
                .lookup(&hash)
                .ok_or_else(|| coded_error("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND))?;
            request.query = document.to_string();
        } else {
            if document_hash(&request.query) != hash {
                return Err(coded_error(
                    "provided sha does not match query",
                    PERSISTED_QUERY_HASH_MISMATCH,
                ));
            }
            if !self.allows(&hash) {
                return Err(not_allowed());
            }
            if request.query.len() <= self.max_document_bytes {
                self.cache().put(hash, Arc::from(request.query.as_str()));
            }
        }
        Ok(request.data(Checked))
    }

    /// The document of `hash`: from the allow-list's file, else remembered here.
    pub fn lookup(&self, hash: &str) -> Option<Arc<str>> {
        self.trusted
            .as_ref()
            .and_then(|t| t.document(hash))
            .or_else(|| self.cache().get(hash).cloned())
    }

    fn allows(&self, hash: &str) -> bool {
        self.trusted.as_ref().is_none_or(|t| t.allows(hash))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<str>>> {
        // Nothing panics while holding it; a poisoned lock still holds plain data.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn not_allowed() -> ServerError {
    coded_error(
        "this server runs only its trusted documents, and this operation is not one of them",
        PERSISTED_QUERY_NOT_ALLOWED,
    )
}

/// The schema extension: expands and checks every request, whatever its transport (HTTP,
/// WebSocket, SSE), before the document is parsed and limited.
pub struct PersistedQueryCheck(pub PersistedQueries);

impl ExtensionFactory for PersistedQueryCheck {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PersistedQueryCheck(self.0.clone()))
    }
}

#[async_trait::async_trait]
impl Extension for PersistedQueryCheck {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = self.0.expand(request)?;
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{ marketState { isOpen } }";

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.0.insert(
            "persistedQuery".into(),
            async_graphql::value!({ "version": 1, "sha256Hash": hash }),
        );
        request
    }

    fn code(e: &ServerError) -> String {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_hash_is_learnt_from_its_document() {
        let apq = PersistedQueries::new(None, 16_384);
        let hash = document_hash(DOC);
        let unknown = apq.expand(with_hash("", &hash)).unwrap_err();
        assert_eq!(unknown.message, "PersistedQueryNotFound");
        assert!(code(&unknown).contains(PERSISTED_QUERY_NOT_FOUND));
        let registered = apq.expand(with_hash(DOC, &hash)).unwrap();
        assert_eq!(registered.query, DOC);
        assert!(!registered.extensions.0.contains_key("persistedQuery"));
        assert_eq!(apq.expand(with_hash("", &hash)).unwrap().query, DOC);
        let upper = apq.expand(with_hash("", &hash.to_uppercase())).unwrap();
        assert_eq!(upper.query, DOC, "hex in either case");
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused_and_not_learnt() {
        let apq = PersistedQueries::new(None, 16_384);
        let other = document_hash("{ other }");
        let e = apq.expand(with_hash(DOC, &other)).unwrap_err();
        assert!(code(&e).contains(PERSISTED_QUERY_HASH_MISMATCH));
        assert!(apq.lookup(&other).is_none());
        let mut v2 = Request::new(DOC);
        v2.extensions.0.insert(
            "persistedQuery".into(),
            async_graphql::value!({ "version": 2, "sha256Hash": document_hash(DOC) }),
        );
        assert!(code(&apq.expand(v2).unwrap_err()).contains("BAD_USER_INPUT"));
    }

    #[test]
    fn oversized_documents_are_not_remembered() {
        let apq = PersistedQueries::new(None, 10);
        let hash = document_hash(DOC);
        assert!(apq.expand(with_hash(DOC, &hash)).is_ok());
        assert!(apq.lookup(&hash).is_none());
    }

    #[test]
    fn an_allow_list_refuses_everything_else() {
        let dir = std::env::temp_dir().join(format!("zebrat-trusted-{}", uuid::Uuid::new_v4()));
        std::fs::write(&dir, format!("{}\n", document_hash(DOC))).unwrap();
        let trusted = TrustedDocuments::load(&dir).unwrap();
        let _ = std::fs::remove_file(&dir);
        let apq = PersistedQueries::new(Some(Arc::new(trusted)), 16_384);
        assert!(apq.expand(Request::new(DOC)).is_ok(), "a trusted document");
        let plain = apq.expand(Request::new("{ stocks { id } }")).unwrap_err();
        assert!(code(&plain).contains(PERSISTED_QUERY_NOT_ALLOWED));
        let other = document_hash("{ other }");
        let by_hash = apq.expand(with_hash("", &other)).unwrap_err();
        assert!(code(&by_hash).contains(PERSISTED_QUERY_NOT_ALLOWED));
        let hash = document_hash(DOC);
        assert!(apq.expand(with_hash("", &hash)).is_err(), "not sent yet");
        assert!(apq.expand(with_hash(DOC, &hash)).is_ok());
        assert_eq!(apq.expand(with_hash("", &hash)).unwrap().query, DOC);
    }
}
