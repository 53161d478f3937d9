use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    /// `BUY` or `SELL`.
    pub side: String,
    pub quantity: i64,
    /// `QUEUED`, `OPEN`, `EXECUTED`, `CANCELED`, `REJECTED` or `EXPIRED`.
    pub status: String,
    /// `MARKET`, `LIMIT`, `STOP`, `STOP_LIMIT` or `TRAILING_STOP`.
    pub order_type: String,
    /// `DAY`, `GTC`, `IOC` or `FOK`.
    pub time_in_force: String,
    /// Limit price (LIMIT, STOP_LIMIT).
    pub limit_price_cents: Option<i64>,
    /// Stop price (STOP, STOP_LIMIT); for a TRAILING_STOP, its stop at placement (the current
    /// one is derived from `trail_reference_cents` and the trail: the engine moves only that).
    pub stop_price_cents: Option<i64>,
    /// A trailing stop's trail in basis points (hundredths of a percent) of its reference.
    pub trail_percent_bps: Option<i64>,
    /// A trailing stop's trail in cents.
    pub trail_amount_cents: Option<i64>,
    /// A trailing stop's best price since placement (highest for sells, lowest for buys).
    pub trail_reference_cents: Option<i64>,
    /// When a stop condition was met.
    pub triggered_at: Option<DateTimeUtc>,
    /// When a DAY order is due to expire (the scheduled close of its session).
    pub expires_at: Option<DateTimeUtc>,
    pub canceled_at: Option<DateTimeUtc>,
    /// Execution price; set once executed.
    pub price_cents: Option<i64>,
    pub total_cents: Option<i64>,
    /// Cash a queued or working buy holds (also counted in `users.reserved_cents`).
    pub reserved_cents: i64,
    /// Shares a queued or working sell holds (also counted in `positions.reserved_quantity`).
    pub reserved_shares: i64,
    /// The order that replaced this one (`replaceOrder`); it shares this one's client id.
    pub replaced_by: Option<i64>,
    /// Client-chosen idempotency key, unique per user among orders not replaced.
    pub client_order_id: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub executed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
