//! Cash, orders, trades and the portfolio of the logged-in user, and their live feeds.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject,
    connection::{Connection, Edge},
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{
    context::{ContextExt, Limited},
    error::{ApiResult, parse_id},
    guards::RoleGuard,
    market::{Stock, percent},
};
use crate::{
    domain::{
        Error,
        market::stocks,
        money::from_cents,
        page::{Page, PageRequest},
        trading::{
            LedgerKind,
            cash::{self, LedgerEntry},
            orders::{self, PlaceOrder, Side, Status},
            portfolio,
            units::{OrderId, Shares, StockId, UserId},
        },
    },
    services::Services,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderSide {
    Buy,
    Sell,
}

impl From<OrderSide> for Side {
    fn from(s: OrderSide) -> Self {
        match s {
            OrderSide::Buy => Side::Buy,
            OrderSide::Sell => Side::Sell,
        }
    }
}

impl From<Side> for OrderSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Buy => OrderSide::Buy,
            Side::Sell => OrderSide::Sell,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderStatus {
    /// Placed while the market was closed; runs at the open.
    Queued,
    Executed,
    Canceled,
    /// Could not be filled at the open (see `rejectReason`).
    Rejected,
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Queued => Status::Queued,
            OrderStatus::Executed => Status::Executed,
            OrderStatus::Canceled => Status::Canceled,
            OrderStatus::Rejected => Status::Rejected,
        }
    }
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => OrderStatus::Queued,
            Status::Executed => OrderStatus::Executed,
            Status::Canceled => OrderStatus::Canceled,
            Status::Rejected => OrderStatus::Rejected,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CashTransactionType {
    Deposit,
    Withdrawal,
    Buy,
    Sell,
}

impl From<LedgerKind> for CashTransactionType {
    fn from(k: LedgerKind) -> Self {
        match k {
            LedgerKind::Deposit => CashTransactionType::Deposit,
            LedgerKind::Withdrawal => CashTransactionType::Withdrawal,
            LedgerKind::Buy => CashTransactionType::Buy,
            LedgerKind::Sell => CashTransactionType::Sell,
        }
    }
}

/// Cash in play money. `available = balance - reserved` (reserved by queued buys).
#[derive(SimpleObject)]
pub struct Cash {
    pub balance: Decimal,
    pub reserved: Decimal,
    pub available: Decimal,
}

impl From<cash::Cash> for Cash {
    fn from(c: cash::Cash) -> Self {
        Cash {
            balance: from_cents(c.balance_cents),
            reserved: from_cents(c.reserved_cents),
            available: from_cents(c.available_cents()),
        }
    }
}

/// One ledger entry: `amount` is signed (credits positive).
#[derive(SimpleObject)]
pub struct CashTransaction {
    pub id: ID,
    #[graphql(name = "type")]
    pub kind: CashTransactionType,
    pub amount: Decimal,
    pub balance_after: Decimal,
    /// What caused it, e.g. `order:42`.
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<LedgerEntry> for CashTransaction {
    fn from(e: LedgerEntry) -> Self {
        CashTransaction {
            id: ID(e.id.to_string()),
            kind: e.kind.into(),
            amount: from_cents(e.amount_cents),
            balance_after: from_cents(e.balance_after_cents),
            reference: e.reference,
            created_at: e.created_at,
        }
    }
}

/// A market order.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
    pub status: OrderStatus,
    pub side: OrderSide,
    pub quantity: i64,
    /// Execution price; null until executed.
    pub price: Option<Decimal>,
    /// `price × quantity`; null until executed.
    pub total: Option<Decimal>,
    pub client_order_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub executed_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<orders::Order> for Order {
    fn from(o: orders::Order) -> Self {
        Order {
            id: ID(o.id.to_string()),
            status: o.status.into(),
            side: o.side.into(),
            quantity: o.quantity,
            price: o.price_cents.map(from_cents),
            total: o.total_cents.map(from_cents),
            client_order_id: o.client_order_id,
            created_at: o.created_at,
            executed_at: o.executed_at,
            reject_reason: o.reject_reason,
            stock_id: o.stock_id,
        }
    }
}

#[ComplexObject]
impl Order {
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

/// A fill.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Trade {
    pub id: ID,
    pub order_id: ID,
    pub side: OrderSide,
    pub quantity: i64,
    pub price: Decimal,
    pub total: Decimal,
    /// P&L a sell realized against the average cost (0 for buys).
    pub realized_pnl: Decimal,
    pub executed_at: DateTime<Utc>,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<orders::Trade> for Trade {
    fn from(t: orders::Trade) -> Self {
        Trade {
            id: ID(t.id.to_string()),
            order_id: ID(t.order_id.to_string()),
            side: t.side.into(),
            quantity: t.quantity,
            price: from_cents(t.price_cents),
            total: from_cents(t.total_cents),
            realized_pnl: from_cents(t.realized_pnl_cents),
            executed_at: t.executed_at,
            stock_id: t.stock_id,
        }
    }
}

#[ComplexObject]
impl Trade {
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

/// Shares of one stock held.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Position {
    pub quantity: i64,
    /// Shares held by queued sell orders.
    pub reserved_quantity: i64,
    /// Cost basis per share (4 decimals).
    pub average_cost: Decimal,
    pub current_price: Decimal,
    pub market_value: Decimal,
    pub unrealized_pnl: Decimal,
    /// Unrealized P&L in percent of the cost basis (2 decimals).
    pub unrealized_pnl_percent: Decimal,
    pub realized_pnl: Decimal,
    #[graphql(skip)]
    pub stock_id: i64,
}

#[ComplexObject]
impl Position {
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

impl From<&portfolio::Holding> for Position {
    fn from(h: &portfolio::Holding) -> Self {
        Position {
            quantity: h.quantity,
            reserved_quantity: h.reserved_quantity,
            average_cost: h.average_cost(),
            current_price: from_cents(h.last_cents),
            market_value: from_cents(h.market_value_cents()),
            unrealized_pnl: from_cents(h.unrealized_pnl_cents()),
            unrealized_pnl_percent: percent(h.unrealized_pnl_cents(), h.cost_basis_cents),
            realized_pnl: from_cents(h.realized_pnl_cents),
            stock_id: h.stock_id,
        }
    }
}

/// The account's valuation at live prices.
#[derive(SimpleObject)]
pub struct Portfolio {
    pub cash: Cash,
    pub positions_value: Decimal,
    /// `cash.balance + positionsValue`.
    pub total_value: Decimal,
    /// Change of the positions' value since the previous close.
    pub day_change: Decimal,
    pub unrealized_pnl: Decimal,
    /// Realized P&L of all positions, closed ones included.
    pub realized_pnl: Decimal,
    pub positions: Vec<Position>,
    pub updated_at: DateTime<Utc>,
}

impl Portfolio {
    pub fn new(p: portfolio::Portfolio, at: DateTime<Utc>) -> Self {
        Portfolio {
            positions_value: from_cents(p.positions_value_cents()),
            total_value: from_cents(p.total_value_cents()),
            day_change: from_cents(p.day_change_cents()),
            unrealized_pnl: from_cents(p.unrealized_pnl_cents()),
            realized_pnl: from_cents(p.realized_pnl_cents),
            positions: p.holdings.iter().map(Position::from).collect(),
            cash: p.cash.into(),
            updated_at: at,
        }
    }
}

/// What an order would do if placed now.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderQuote {
    pub side: OrderSide,
    pub quantity: i64,
    /// Current price.
    pub price: Decimal,
    pub estimated_total: Decimal,
    /// Cash balance after the order at the current price.
    pub cash_after: Decimal,
    /// Shares held after the order.
    pub shares_after: i64,
    pub market_open: bool,
    /// True when the order would execute at once (open market, enough cash or shares);
    /// false when it would queue or be refused (see `problem`).
    pub executes_now: bool,
    /// Why the order would be refused, if it would.
    pub problem: Option<String>,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<orders::OrderQuote> for OrderQuote {
    fn from(q: orders::OrderQuote) -> Self {
        OrderQuote {
            side: q.side.into(),
            quantity: q.quantity.0,
            price: from_cents(q.price.0),
            estimated_total: from_cents(q.total.0),
            cash_after: from_cents(q.cash_after.0),
            shares_after: q.shares_after.0,
            market_open: q.market_open,
            executes_now: q.executes_now,
            problem: q.problem,
            stock_id: q.stock_id,
        }
    }
}

#[ComplexObject]
impl OrderQuote {
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

#[derive(InputObject)]
pub struct QuoteInput {
    pub stock_id: ID,
    pub side: OrderSide,
    /// Whole shares, at least 1.
    pub quantity: i32,
}

#[derive(InputObject)]
pub struct PlaceOrderInput {
    pub stock_id: ID,
    pub side: OrderSide,
    /// Whole shares, at least 1.
    pub quantity: i32,
    /// Your idempotency key (1–64 characters): retrying with the same key returns the first
    /// order instead of placing another.
    pub client_order_id: Option<String>,
}

/// Stocks of orders, trades and positions, loaded once per response.
pub struct StockLoader(pub Services);

impl Loader<i64> for StockLoader {
    type Value = stocks::Quote;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, stocks::Quote>, Self::Error> {
        self.0.market.stocks_by_ids(keys).await.map_err(Arc::new)
    }
}

/// A user's orders as a connection (the caller's own, or any user's for admins).
pub async fn orders_of(
    ctx: &Context<'_>,
    user_id: i64,
    status: Option<OrderStatus>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Order>> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let rows = ctx
        .services()
        .trading
        .orders(user_id, status.map(Status::from), page)
        .await?;
    Ok(connection(rows, Order::from))
}

/// A user's trades as a connection.
pub async fn trades_of(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Trade>> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let rows = ctx.services().trading.trades(user_id, page).await?;
    Ok(connection(rows, Trade::from))
}

/// A stock through the per-request DataLoader.
pub async fn load_stock(ctx: &Context<'_>, id: i64) -> ApiResult<Stock> {
    let loader = ctx.data::<DataLoader<StockLoader>>()?;
    let quote = loader.load_one(id).await.map_err(Error::internal)?;
    Ok(quote.ok_or_else(|| Error::NotFound("stock".into()))?.into())
}

/// A Relay connection from a domain page.
pub fn connection<T, N: async_graphql::OutputType>(
    page: Page<T>,
    node: impl Fn(T) -> N,
) -> Connection<String, N> {
    let mut c = Connection::new(false, page.has_next_page);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor, node(item))),
    );
    c
}

#[derive(Default)]
pub struct TradingQuery;

#[Object]
impl TradingQuery {
    /// The caller's cash.
    #[graphql(guard = "RoleGuard::user()")]
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Cash> {
        Ok(ctx
            .services()
            .trading
            .cash(ctx.viewer()?.user_id)
            .await?
            .into())
    }

    /// The caller's cash ledger, newest first (at most 100 per page).
    #[graphql(guard = "RoleGuard::user()")]
    async fn cash_transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, CashTransaction>> {
        let page = PageRequest::parse(first, after.as_deref())?;
        let rows = ctx
            .services()
            .trading
            .cash_transactions(ctx.viewer()?.user_id, page)
            .await?;
        Ok(connection(rows, CashTransaction::from))
    }

    /// Previews an order: price, estimated total, cash or shares after, and whether it would
    /// execute now or queue.
    #[graphql(guard = "RoleGuard::user()")]
    async fn quote(&self, ctx: &Context<'_>, input: QuoteInput) -> ApiResult<OrderQuote> {
        let stock_id = parse_id(&input.stock_id, "stockId")?;
        Ok(ctx
            .services()
            .trading
            .quote(
                UserId(ctx.viewer()?.user_id),
                StockId(stock_id),
                input.side.into(),
                Shares(input.quantity.into()),
            )
            .await?
            .into())
    }

    /// The caller's orders, newest first, optionally of one status.
    #[graphql(guard = "RoleGuard::user()")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Order>> {
        orders_of(ctx, ctx.viewer()?.user_id, status, first, after).await
    }

    /// One of the caller's orders.
    #[graphql(guard = "RoleGuard::user()")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Order> {
        let id = parse_id(&id, "id")?;
        Ok(ctx
            .services()
            .trading
            .order(UserId(ctx.viewer()?.user_id), OrderId(id))
            .await?
            .into())
    }

    /// The caller's fills, newest first.
    #[graphql(guard = "RoleGuard::user()")]
    async fn trades(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Trade>> {
        trades_of(ctx, ctx.viewer()?.user_id, first, after).await
    }

    /// The caller's valuation at live prices.
    #[graphql(guard = "RoleGuard::user()")]
    async fn portfolio(&self, ctx: &Context<'_>) -> ApiResult<Portfolio> {
        let s = ctx.services();
        Ok(Portfolio::new(
            s.trading.portfolio(ctx.viewer()?.user_id).await?,
            s.clock.now(),
        ))
    }
}

#[derive(Default)]
pub struct TradingMutation;

#[Object]
impl TradingMutation {
    /// Adds play money (positive, at most 2 decimals, capped per operation).
    #[graphql(guard = "RoleGuard::user()")]
    async fn deposit(
        &self,
        ctx: &Context<'_>,
        amount: Decimal,
        #[graphql(
            desc = "Your idempotency key (1–64 characters, unique per user): retrying \
                          with the same key returns the first answer and moves no money."
        )]
        idempotency_key: Option<String>,
    ) -> ApiResult<Cash> {
        let user_id = ctx.viewer()?.user_id;
        ctx.rate_limit(Limited::Deposit, &[&format!("deposit:user:{user_id}")])
            .await?;
        Ok(ctx
            .services()
            .trading
            .deposit(user_id, amount, idempotency_key)
            .await?
            .into())
    }

    /// Takes money out; never below what queued buys have reserved.
    #[graphql(guard = "RoleGuard::user()")]
    async fn withdraw(
        &self,
        ctx: &Context<'_>,
        amount: Decimal,
        #[graphql(
            desc = "Your idempotency key (1–64 characters, unique per user): retrying \
                          with the same key returns the first answer and moves no money."
        )]
        idempotency_key: Option<String>,
    ) -> ApiResult<Cash> {
        Ok(ctx
            .services()
            .trading
            .withdraw(ctx.viewer()?.user_id, amount, idempotency_key)
            .await?
            .into())
    }

    /// Places a market order: executed at once while the market is open, queued while it is
    /// closed (its estimated cost or its shares are reserved until the open).
    #[graphql(guard = "RoleGuard::user()")]
    async fn place_order(&self, ctx: &Context<'_>, input: PlaceOrderInput) -> ApiResult<Order> {
        let user_id = ctx.viewer()?.user_id;
        let cmd = PlaceOrder {
            stock_id: parse_id(&input.stock_id, "stockId")?,
            side: input.side.into(),
            quantity: Shares(input.quantity.into()),
            client_order_id: input.client_order_id,
        };
        let trading = &ctx.services().trading;
        // Refused input and retries spend no budget: a client over the limit must still get
        // the answer to an order it placed (the README's "retry freely").
        trading.check_order(&cmd)?;
        if let Some(placed) = trading.replay(user_id, &cmd).await? {
            return Ok(placed.into());
        }
        ctx.rate_limit(Limited::Order, &[&format!("order:user:{user_id}")])
            .await?;
        Ok(trading.place_order(user_id, cmd).await?.into())
    }

    /// Cancels one of the caller's QUEUED orders and releases its reservation.
    #[graphql(guard = "RoleGuard::user()")]
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Order> {
        let id = parse_id(&id, "id")?;
        Ok(ctx
            .services()
            .trading
            .cancel_order(UserId(ctx.viewer()?.user_id), OrderId(id))
            .await?
            .into())
    }
}
