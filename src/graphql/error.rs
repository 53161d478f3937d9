//! The one place domain errors become GraphQL errors.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts anything that
//! does into an error WITHOUT `extensions.code`, so a stray `?` would compile and drop the code.

use async_graphql::ErrorExtensions;

use crate::domain::Error;

#[derive(Debug, Clone)]
pub struct ApiError(async_graphql::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let code = err.code();
        let message = match &err {
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        ApiError(async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match &err {
                Error::BadInput {
                    field: Some(field), ..
                } => ext.set("field", *field),
                Error::RateLimited { retry_after_secs } => ext.set("retryAfter", *retry_after_secs),
                _ => {}
            }
        }))
    }
}

/// Errors async-graphql itself raises inside resolvers (missing context data and the like).
impl From<async_graphql::Error> for ApiError {
    fn from(err: async_graphql::Error) -> Self {
        Error::internal(err.message).into()
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

/// An error about the request itself (raised before any resolver runs), with its code.
pub fn coded_error(message: impl Into<String>, code: &'static str) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}
