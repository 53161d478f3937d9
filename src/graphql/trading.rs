//! Cash, orders, trades and the portfolio of the logged-in user, and their live feeds.

mod payloads;

mod inputs;
pub use inputs::{CancelOrderInput, CashInput, PlaceOrderInput, QuoteInput};

mod positions;

pub use positions::{Portfolio, Position};

use std::{collections::HashMap, sync::Arc};

use payloads::cash_payload;
pub use payloads::{CancelOrderPayload, CashPayload, OrderEvent, PlaceOrderPayload};

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};

use super::{
    connection::{Conn, PageArgs, connection},
    context::{ContextExt, Limited},
    error::ApiResult,
    guards::RoleGuard,
    market::Stock,
    node::{Kind, global_id, row_id},
    payload::split,
    rate_limits::keys,
    scalars::{DateTime, Decimal, money},
};
use crate::{
    domain::{
        Error,
        market::stocks,
        trading::{
            LedgerKind,
            cash::{self, LedgerEntry},
            lookup::Reader,
            order::RejectCode,
            orders::{self, PlaceOrder, Side, Status},
            plan::QuoteProblem,
            units::{OrderId, Shares, UserId},
        },
    },
    services::Services,
};

/// Which way an order trades. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderSide {
    /// Spends cash for shares.
    Buy,
    /// Turns held shares into cash (no short selling: only shares held and not reserved).
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

/// Where an order is in its life. New values may be added: clients must treat this enum as
/// open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderStatus {
    /// Placed while the market was closed; runs at the open.
    Queued,
    /// Filled: see `price`, `total` and `trades`.
    Executed,
    /// Canceled by its owner while queued; its reservation was released.
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

/// Why an order was rejected at the open. New values may be added: clients must treat this
/// enum as open and show `rejectReason` for a code they do not know.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderRejectCode {
    /// The cash available at the open did not cover the order at the opening price.
    InsufficientFunds,
    /// The shares were no longer held.
    InsufficientShares,
    /// The stock was halted while the order waited.
    StockHalted,
    /// Price × quantity did not fit in the money range.
    TooLarge,
}

impl From<RejectCode> for OrderRejectCode {
    fn from(c: RejectCode) -> Self {
        match c {
            RejectCode::InsufficientFunds => OrderRejectCode::InsufficientFunds,
            RejectCode::InsufficientShares => OrderRejectCode::InsufficientShares,
            RejectCode::StockHalted => OrderRejectCode::StockHalted,
            RejectCode::TooLarge => OrderRejectCode::TooLarge,
        }
    }
}

/// What moved cash. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CashTransactionType {
    /// Play money added by the user.
    Deposit,
    /// Money taken out by the user.
    Withdrawal,
    /// Paid for an executed buy order.
    Buy,
    /// Received for an executed sell order.
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

/// One user's cash in play money. `available = balance - reserved` (reserved by queued buys).
/// Its id is the owner's: every view of one account's cash is one cache record.
#[derive(SimpleObject, Clone)]
pub struct Cash {
    /// Global id (one per account).
    pub id: ID,
    /// Everything the account holds in cash, e.g. `"10000.00"`.
    pub balance: Decimal,
    /// Held for queued buy orders until they run or are canceled.
    pub reserved: Decimal,
    /// What new orders and withdrawals may use: `balance - reserved`.
    pub available: Decimal,
}

impl Cash {
    pub fn of(user_id: i64, c: cash::Cash) -> Self {
        Cash {
            id: global_id(Kind::Cash, user_id),
            balance: money(c.balance_cents),
            reserved: money(c.reserved_cents),
            available: money(c.available_cents()),
        }
    }
}

/// One ledger entry: `amount` is signed (credits positive).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CashTransaction {
    /// Global id.
    pub id: ID,
    /// The ledger row number, for reconciliation and support.
    pub database_id: i64,
    /// What moved the cash.
    #[graphql(name = "type")]
    pub kind: CashTransactionType,
    /// Signed: credits positive, debits negative, e.g. `"-1523.40"`.
    pub amount: Decimal,
    /// The cash balance right after this entry.
    pub balance_after: Decimal,
    /// What caused it, e.g. `order:42` (the order's database id); null for deposits and
    /// withdrawals. See `order` for the object.
    pub reference: Option<String>,
    /// When the entry was written.
    pub created_at: DateTime,
    #[graphql(skip)]
    pub user_id: i64,
}

impl From<LedgerEntry> for CashTransaction {
    fn from(e: LedgerEntry) -> Self {
        CashTransaction {
            id: global_id(Kind::CashTransaction, e.id),
            database_id: e.id,
            kind: e.kind.into(),
            amount: money(e.amount_cents),
            balance_after: money(e.balance_after_cents),
            reference: e.reference,
            created_at: e.created_at.into(),
            user_id: e.user_id,
        }
    }
}

#[ComplexObject]
impl CashTransaction {
    /// The order that moved this cash; null for deposits and withdrawals.
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        let Some(order_id) = self
            .reference
            .as_deref()
            .and_then(|r| r.strip_prefix("order:"))
            .and_then(|id| id.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        let trading = &ctx.services().trading;
        let order = trading
            .order_for(Reader::Owner(UserId(self.user_id)), order_id)
            .await?;
        Ok(order.map(Order::from))
    }
}

/// A market order.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Order {
    /// Global id.
    pub id: ID,
    /// The order's row number, for support and reconciliation.
    pub database_id: i64,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares, at least 1.
    pub quantity: i64,
    /// Execution price per share; null until executed.
    pub price: Option<Decimal>,
    /// `price × quantity`; null until executed.
    pub total: Option<Decimal>,
    /// The idempotency key the client sent with `placeOrder`, if any.
    pub client_order_id: Option<String>,
    /// When the order was placed.
    pub created_at: DateTime,
    /// When it was filled; null until executed.
    pub executed_at: Option<DateTime>,
    /// Why it was rejected at the open, for people; null unless REJECTED.
    pub reject_reason: Option<String>,
    /// Why it was rejected, for programs; null unless REJECTED (or for a reason this server
    /// version does not name).
    pub reject_code: Option<OrderRejectCode>,
    #[graphql(skip)]
    pub stock_id: i64,
    #[graphql(skip)]
    pub user_id: i64,
}

impl From<orders::Order> for Order {
    fn from(o: orders::Order) -> Self {
        Order {
            id: global_id(Kind::Order, o.id),
            database_id: o.id,
            status: o.status.into(),
            side: o.side.into(),
            quantity: o.quantity,
            price: o.price_cents.map(money),
            total: o.total_cents.map(money),
            client_order_id: o.client_order_id,
            created_at: o.created_at.into(),
            executed_at: o.executed_at.map(Into::into),
            reject_code: o
                .reject_reason
                .as_deref()
                .and_then(RejectCode::of)
                .map(Into::into),
            reject_reason: o.reject_reason,
            stock_id: o.stock_id,
            user_id: o.user_id,
        }
    }
}

#[ComplexObject]
impl Order {
    /// The stock traded.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }

    /// The fills of this order, oldest first: one once executed, none before.
    async fn trades(&self, ctx: &Context<'_>) -> ApiResult<Vec<Trade>> {
        Ok(order_trades(ctx, self).await?)
    }
}

pub(super) async fn order_trades(ctx: &Context<'_>, order: &Order) -> ApiResult<Vec<Trade>> {
    if order.status != OrderStatus::Executed {
        return Ok(Vec::new());
    }
    let trading = &ctx.services().trading;
    let trades = trading.trades_of_order(order.database_id).await?;
    Ok(trades.into_iter().map(Trade::from).collect())
}

/// A fill: shares and cash that changed hands for an order.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Trade {
    /// Global id.
    pub id: ID,
    /// The trade's row number.
    pub database_id: i64,
    /// The global id of the order filled; see `order` for the object.
    pub order_id: ID,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares.
    pub quantity: i64,
    /// Price per share.
    pub price: Decimal,
    /// `price × quantity`.
    pub total: Decimal,
    /// P&L a sell realized against the average cost (0 for buys).
    pub realized_pnl: Decimal,
    /// When it was filled.
    pub executed_at: DateTime,
    #[graphql(skip)]
    pub stock_id: i64,
    #[graphql(skip)]
    pub order_row: i64,
    #[graphql(skip)]
    pub user_id: i64,
}

impl From<orders::Trade> for Trade {
    fn from(t: orders::Trade) -> Self {
        Trade {
            id: global_id(Kind::Trade, t.id),
            database_id: t.id,
            order_id: global_id(Kind::Order, t.order_id),
            side: t.side.into(),
            quantity: t.quantity,
            price: money(t.price_cents),
            total: money(t.total_cents),
            realized_pnl: money(t.realized_pnl_cents),
            executed_at: t.executed_at.into(),
            stock_id: t.stock_id,
            order_row: t.order_id,
            user_id: t.user_id,
        }
    }
}

#[ComplexObject]
impl Trade {
    /// The stock traded.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }

    /// The order this trade filled.
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        let trading = &ctx.services().trading;
        let order = trading
            .order_for(Reader::Owner(UserId(self.user_id)), self.order_row)
            .await?;
        Ok(order.map(Order::from))
    }
}

/// Why an order would be refused if placed now. A closed market is not one: the order would
/// queue (see `marketOpen` and `executesNow`). New values may be added: clients must treat
/// this enum as open and show `problem` for a code they do not know.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum QuoteProblemCode {
    /// A buy costs more than the available cash (balance minus what queued buys reserve).
    InsufficientFunds,
    /// A sell asks for more shares than are held and not reserved by queued sells.
    InsufficientShares,
    /// The stock is halted: it takes no new orders (`placeOrder` would answer STOCK_HALTED).
    StockHalted,
}

impl From<QuoteProblem> for QuoteProblemCode {
    fn from(p: QuoteProblem) -> Self {
        match p {
            QuoteProblem::InsufficientFunds => QuoteProblemCode::InsufficientFunds,
            QuoteProblem::InsufficientShares => QuoteProblemCode::InsufficientShares,
            QuoteProblem::StockHalted => QuoteProblemCode::StockHalted,
        }
    }
}

/// What an order would do if placed now.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderQuote {
    /// As asked.
    pub side: OrderSide,
    /// As asked.
    pub quantity: i64,
    /// Current price.
    pub price: Decimal,
    /// `price × quantity`.
    pub estimated_total: Decimal,
    /// Cash balance after the order at the current price.
    pub cash_after: Decimal,
    /// Shares held after the order.
    pub shares_after: i64,
    /// Whether the market is open now.
    pub market_open: bool,
    /// True when the order would execute at once (open market, enough cash or shares, stock
    /// not halted); false when it would queue or be refused (see `problem`).
    pub executes_now: bool,
    /// Why the order would be refused, for people, e.g. `"insufficient funds"`; null when it
    /// would not be.
    pub problem: Option<String>,
    /// Why the order would be refused, for programs; null when it would not be.
    pub problem_code: Option<QuoteProblemCode>,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<orders::OrderQuote> for OrderQuote {
    fn from(q: orders::OrderQuote) -> Self {
        OrderQuote {
            side: q.side.into(),
            quantity: q.quantity.0,
            price: money(q.price.0),
            estimated_total: money(q.total.0),
            cash_after: money(q.cash_after.0),
            shares_after: q.shares_after.0,
            market_open: q.market_open,
            executes_now: q.executes_now,
            problem: q.problem.map(|p| p.message().to_string()),
            problem_code: q.problem.map(QuoteProblemCode::from),
            stock_id: q.stock_id,
        }
    }
}

#[ComplexObject]
impl OrderQuote {
    /// The stock quoted.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
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
    page: PageArgs,
) -> ApiResult<Conn<Order>> {
    let rows = ctx
        .services()
        .trading
        .orders(user_id, status.map(Status::from), page.request()?)
        .await?;
    Ok(connection(rows, Order::from))
}

/// A user's trades as a connection.
pub async fn trades_of(ctx: &Context<'_>, user_id: i64, page: PageArgs) -> ApiResult<Conn<Trade>> {
    let rows = ctx
        .services()
        .trading
        .trades(user_id, page.request()?)
        .await?;
    Ok(connection(rows, Trade::from))
}

/// A user's cash ledger as a connection.
pub async fn cash_transactions_of(
    ctx: &Context<'_>,
    user_id: i64,
    page: PageArgs,
) -> ApiResult<Conn<CashTransaction>> {
    let rows = ctx
        .services()
        .trading
        .cash_transactions(user_id, page.request()?)
        .await?;
    Ok(connection(rows, CashTransaction::from))
}

/// A stock through the per-request DataLoader.
pub async fn load_stock(ctx: &Context<'_>, id: i64) -> ApiResult<Stock> {
    Ok(find_stock(ctx, id)
        .await?
        .ok_or_else(|| Error::NotFound("stock".into()))?)
}

/// A stock through the per-request DataLoader; None when there is none with that id.
pub async fn find_stock(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Stock>> {
    let loader = ctx.data::<DataLoader<StockLoader>>()?;
    let quote = loader.load_one(id).await.map_err(Error::internal)?;
    Ok(quote.map(Stock::from))
}

#[derive(Default)]
pub struct TradingQuery;

#[Object]
impl TradingQuery {
    /// The caller's cash. Needs a logged-in user (UNAUTHENTICATED otherwise).
    #[graphql(guard = "RoleGuard::user()")]
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Cash> {
        let user_id = ctx.viewer()?.user_id;
        let cash = ctx.services().trading.cash(user_id).await?;
        Ok(Cash::of(user_id, cash))
    }

    /// The caller's cash ledger, newest first (at most 100 per page).
    #[graphql(
        guard = "RoleGuard::user()",
        complexity = "super::connection::cost(first, last, child_complexity)"
    )]
    async fn cash_transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Entries after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Entries before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<CashTransaction>> {
        let page = PageArgs::new(first, after, last, before);
        cash_transactions_of(ctx, ctx.viewer()?.user_id, page).await
    }

    /// Previews an order: price, estimated total, cash or shares after, and whether it would
    /// execute now, queue, or be refused (`problemCode`, a halted stock included). Needs a
    /// logged-in user. A stock that does not exist is a NOT_FOUND error.
    #[graphql(guard = "RoleGuard::user()")]
    async fn quote(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order to preview.")] input: QuoteInput,
    ) -> ApiResult<OrderQuote> {
        let stock_id = input.stock.resolve(ctx, "stock").await?;
        Ok(ctx
            .services()
            .trading
            .quote(
                UserId(ctx.viewer()?.user_id),
                stock_id,
                input.side.into(),
                Shares(input.quantity.into()),
            )
            .await?
            .into())
    }

    /// The caller's orders, newest first, optionally of one status.
    #[graphql(
        guard = "RoleGuard::user()",
        complexity = "super::connection::cost(first, last, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only orders with this status.")] status: Option<OrderStatus>,
        #[graphql(desc = "Orders after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Orders before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<Order>> {
        let page = PageArgs::new(first, after, last, before);
        orders_of(ctx, ctx.viewer()?.user_id, status, page).await
    }

    /// One of the caller's orders; null when there is none with this id (or it is another
    /// user's).
    #[graphql(guard = "RoleGuard::user()")]
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's global id.")] id: ID,
    ) -> ApiResult<Option<Order>> {
        let id = row_id(&id, Kind::Order, "id")?;
        let reader = Reader::Owner(UserId(ctx.viewer()?.user_id));
        let order = ctx.services().trading.order_for(reader, id).await?;
        Ok(order.map(Order::from))
    }

    /// The caller's fills, newest first.
    #[graphql(
        guard = "RoleGuard::user()",
        complexity = "super::connection::cost(first, last, child_complexity)"
    )]
    async fn trades(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Trades after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Trades before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<Trade>> {
        let page = PageArgs::new(first, after, last, before);
        trades_of(ctx, ctx.viewer()?.user_id, page).await
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
    /// Adds play money. Needs a logged-in user; rate limited per user (RATE_LIMITED).
    #[graphql(guard = "RoleGuard::user()")]
    async fn deposit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The amount and an optional idempotency key.")] input: CashInput,
    ) -> ApiResult<CashPayload> {
        let user_id = ctx.viewer()?.user_id;
        ctx.rate_limit(Limited::Deposit, &[&keys::deposits(user_id)])
            .await?;
        let result = ctx
            .services()
            .trading
            .deposit(user_id, input.amount.0, input.idempotency_key)
            .await;
        cash_payload(user_id, result)
    }

    /// Takes money out; never below what queued buys have reserved (INSUFFICIENT_FUNDS).
    #[graphql(guard = "RoleGuard::user()")]
    async fn withdraw(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The amount and an optional idempotency key.")] input: CashInput,
    ) -> ApiResult<CashPayload> {
        let user_id = ctx.viewer()?.user_id;
        let result = ctx
            .services()
            .trading
            .withdraw(user_id, input.amount.0, input.idempotency_key)
            .await;
        cash_payload(user_id, result)
    }

    /// Places a market order: executed at once while the market is open, queued while it is
    /// closed (its estimated cost or its shares are reserved until the open). Rate limited
    /// per user; a retried `clientOrderId` is answered without counting.
    #[graphql(guard = "RoleGuard::user()")]
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stock, side, quantity and an optional `clientOrderId`.")]
        input: PlaceOrderInput,
    ) -> ApiResult<PlaceOrderPayload> {
        let user_id = ctx.viewer()?.user_id;
        let result = async {
            let stock_id = input.stock.resolve(ctx, "stock").await?;
            let cmd = PlaceOrder {
                stock_id: stock_id.0,
                side: input.side.into(),
                quantity: Shares(input.quantity.into()),
                client_order_id: input.client_order_id,
            };
            let trading = &ctx.services().trading;
            // Refused input and retries spend no budget: a client over the limit must still
            // get the answer to an order it placed (the README's "retry freely").
            trading.check_order(&cmd)?;
            if let Some(placed) = trading.replay(user_id, &cmd).await? {
                return Ok(placed);
            }
            ctx.rate_limit(Limited::Order, &[&keys::orders(user_id)])
                .await?;
            trading.place_order(user_id, cmd).await
        }
        .await;
        let (order, user_errors) = split(result)?;
        Ok(PlaceOrderPayload {
            order: order.map(Order::from),
            user_errors,
        })
    }

    /// Cancels one of the caller's QUEUED orders and releases its reservation.
    #[graphql(guard = "RoleGuard::user()")]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order to cancel.")] input: CancelOrderInput,
    ) -> ApiResult<CancelOrderPayload> {
        let user = UserId(ctx.viewer()?.user_id);
        let result = async {
            let id = row_id(&input.order_id, Kind::Order, "orderId")?;
            ctx.services().trading.cancel_order(user, OrderId(id)).await
        }
        .await;
        let (order, user_errors) = split(result)?;
        Ok(CancelOrderPayload {
            order: order.map(Order::from),
            user_errors,
        })
    }
}
