//! Mutation payloads report expected failures as data (`userErrors`), so a refused order is a
//! normal answer a screen can show next to the field, not an error that nulls the response.
//! Top-level errors remain for what the client cannot fix in the form: UNAUTHENTICATED,
//! FORBIDDEN, RATE_LIMITED and INTERNAL.

use async_graphql::{Enum, SimpleObject};

use super::error::{ApiError, ApiResult};
use crate::domain::Error;

/// Why a mutation did not do what was asked. New values may be added: clients must treat
/// this enum as open and show `message` for a code they do not know.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UserErrorCode {
    /// An input is malformed or out of range; `field` names it.
    BadUserInput,
    /// The object named does not exist, or the caller may not see it.
    NotFound,
    /// The request clashes with the current state: a taken email or symbol, an idempotency
    /// key reused for something else, an order that is no longer queued.
    Conflict,
    /// Not enough available cash (balance minus what queued buys reserve).
    InsufficientFunds,
    /// Not enough shares that are not already reserved by queued sells.
    InsufficientShares,
    /// The stock is halted (inactive): it takes no new orders.
    StockHalted,
}

/// An expected failure of a mutation, reported beside its (null) result.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// The path of the input field at fault, e.g. `["input", "quantity"]`; null when the
    /// failure is not about one field.
    pub field: Option<Vec<String>>,
    /// For people: says what is wrong and, where it can, what would work.
    pub message: String,
    /// For programs: stable across releases.
    pub code: UserErrorCode,
}

/// A command's result split for a payload: the value, or the user errors. Failures the user
/// cannot fix in the form stay top-level errors.
pub fn split<T>(result: Result<T, Error>) -> ApiResult<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(err) => match user_error(&err) {
            Some(user_error) => Ok((None, vec![user_error])),
            None => Err(ApiError::from(err)),
        },
    }
}

/// The user error a domain error is, if it is one.
pub fn user_error(err: &Error) -> Option<UserError> {
    let (code, field) = match err {
        Error::BadInput { field, .. } => (UserErrorCode::BadUserInput, *field),
        Error::NotFound(_) => (UserErrorCode::NotFound, None),
        Error::Conflict(_) => (UserErrorCode::Conflict, None),
        Error::InsufficientFunds(_) => (UserErrorCode::InsufficientFunds, None),
        Error::InsufficientShares(_) => (UserErrorCode::InsufficientShares, None),
        Error::StockHalted(_) => (UserErrorCode::StockHalted, None),
        Error::Unauthenticated(_)
        | Error::Forbidden(_)
        | Error::RateLimited { .. }
        | Error::Internal(_) => return None,
    };
    Some(UserError {
        field: field.map(|f| vec!["input".to_string(), f.to_string()]),
        message: err.to_string(),
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_failures_are_data_and_the_rest_are_errors() {
        let (value, errors) =
            split::<()>(Err(Error::bad_input("quantity", "too many"))).unwrap_or_default();
        assert!(value.is_none());
        assert_eq!(errors[0].code, UserErrorCode::BadUserInput);
        assert_eq!(
            errors[0].field,
            Some(vec!["input".to_string(), "quantity".to_string()])
        );
        assert!(split::<()>(Err(Error::StockHalted("AAPL is halted".into()))).is_ok());
        assert!(split::<()>(Err(Error::Forbidden("no".into()))).is_err());
        assert!(split::<()>(Err(Error::internal("boom"))).is_err());
        assert!(
            split::<()>(Err(Error::RateLimited {
                retry_after_secs: 1
            }))
            .is_err()
        );
    }
}
