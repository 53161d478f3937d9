//! One account per look-alike email: `users.email_skeleton` holds each address's UTS #39
//! skeleton ([`text::skeleton`]) under a unique index. Registering, or an admin changing an
//! email, first looks the skeleton up (one indexed read, for a clear answer); two requests
//! racing past that read meet the unique index at the write, which refuses the second. Both
//! answer the same CONFLICT as an exact duplicate, so the refusal tells a stranger no more
//! than the duplicate-email error always did.

use entity::users;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr, sea_query::Expr,
};

use super::Email;
use crate::domain::{Error, Result, text};

impl Email {
    /// The address's skeleton, as stored in `users.email_skeleton`: look-alike addresses
    /// (a Cyrillic `е` for a Latin `e`, `rn` for `m`) have the same one.
    pub fn skeleton(&self) -> String {
        text::skeleton(self.as_str())
    }
}

/// The refusal of an email that is taken, or looks like one that is.
pub fn taken() -> Error {
    Error::Conflict("an account with this email, or one that looks like it, already exists".into())
}

/// Refuses (CONFLICT) when an account other than `except` has an email that looks like
/// `email`, its own included.
pub async fn ensure_free(
    conn: &impl ConnectionTrait,
    email: &Email,
    except: Option<i64>,
) -> Result<()> {
    let mut q = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::EmailSkeleton.eq(email.skeleton()));
    if let Some(id) = except {
        q = q.filter(users::Column::Id.ne(id));
    }
    match q.into_tuple::<i64>().one(conn).await? {
        Some(_) => Err(taken()),
        None => Ok(()),
    }
}

/// Fills in the skeleton of accounts that have none (created before the column existed);
/// answers how many it filled. Run at start, after the migrations, on every instance: filling
/// is idempotent. Two existing accounts whose emails already look alike cannot both hold
/// theirs under the unique index: the later one is logged and keeps none.
pub async fn backfill_skeletons(db: &DatabaseConnection) -> Result<u64> {
    let missing: Vec<(i64, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::EmailSkeleton.is_null())
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut filled = 0;
    for (id, email) in missing {
        let written = users::Entity::update_many()
            .col_expr(
                users::Column::EmailSkeleton,
                Expr::value(text::skeleton(&email)),
            )
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::EmailSkeleton.is_null())
            .exec(db)
            .await;
        match written {
            Ok(done) => filled += done.rows_affected,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                tracing::warn!(
                    user_id = id,
                    "this account's email looks like an older account's: it keeps no \
                     skeleton, so look-alikes of it are not refused (change one of the two)"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}
