use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    /// The email's UTS #39 confusable skeleton (unique): look-alike addresses share one, so a
    /// second account cannot take a look-alike of an existing email. Null only for an account
    /// whose email already looked like an older account's when the column was filled in.
    #[sea_orm(unique)]
    pub email_skeleton: Option<String>,
    pub name: String,
    pub password_hash: String,
    /// `CUSTOMER` or `ADMIN`.
    pub role: String,
    pub active: bool,
    /// Cash balance; always equals the sum of the user's `cash_ledger` amounts.
    pub cash_cents: i64,
    /// Part of the balance held by queued buy orders.
    pub reserved_cents: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_seen_at: Option<DateTimeUtc>,
    /// Access tokens carry the epoch they were issued in; bumping it ends every session.
    pub session_epoch: i64,
    /// The name shown on the leaderboard; null when the user is not on it.
    pub leaderboard_name: Option<String>,
    /// The leaderboard name's confusable skeleton (unique): two players cannot show
    /// look-alike names.
    #[sea_orm(unique)]
    pub leaderboard_skeleton: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
