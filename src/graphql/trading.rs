//! Cash, orders, trades and the portfolio of the logged-in user, and their live feeds.

mod inputs;
mod order;
mod payloads;
mod positions;

pub use inputs::{CancelOrderInput, CashInput, PlaceOrderInput, QuoteInput, ReplaceOrderInput};
pub use order::{
    Order, OrderRejectCode, OrderReservation, OrderSide, OrderStatus, OrderType, TimeInForce, Trade,
};
pub use payloads::{
    CancelOrderPayload, CashPayload, OrderEvent, PlaceOrderPayload, ReplaceOrderPayload,
};
pub use positions::{Portfolio, Position};

use std::{collections::HashMap, sync::Arc};

use order::order_trades;
use payloads::cash_payload;

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
            orders::{self, PlaceOrder, Status},
            placement::ReplaceOrder,
            plan::QuoteProblem,
            terms::{Terms, TermsInput},
            units::{OrderId, Shares, UserId},
        },
    },
    services::Services,
};

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

/// One user's cash in play money. `available = balance - reserved` (reserved by queued and
/// working buys).
/// Its id is the owner's: every view of one account's cash is one cache record.
#[derive(SimpleObject, Clone)]
pub struct Cash {
    /// Global id (one per account).
    pub id: ID,
    /// Everything the account holds in cash, e.g. `"10000.00"`.
    pub balance: Decimal,
    /// Held for queued and working buy orders until they fill or end.
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

    /// Places an order. MARKET: executed at once while the market is open, queued while it
    /// is closed (its estimated cost or its shares reserved until the open). LIMIT, STOP,
    /// STOP_LIMIT and TRAILING_STOP: OPEN (working) until a tick round reaches its price, its
    /// time in force ends or it is canceled, reserving its worst cost or its shares; one placed
    /// while the market is open is first evaluated at the next round. IOC and FOK: filled at
    /// once at the current price or CANCELED. Rate limited per user; a retried
    /// `clientOrderId` is answered without counting.
    #[graphql(guard = "RoleGuard::user()")]
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The stock, side, quantity, type and its prices, time in force and an optional `clientOrderId`."
        )]
        input: PlaceOrderInput,
    ) -> ApiResult<PlaceOrderPayload> {
        let user_id = ctx.viewer()?.user_id;
        let result = async {
            let stock_id = input.stock.resolve(ctx, "stock").await?;
            let terms = Terms::parse(TermsInput {
                order_type: input.order_type.into(),
                time_in_force: input.time_in_force.into(),
                limit_price: input.limit_price.map(|d| d.0),
                stop_price: input.stop_price.map(|d| d.0),
                trail_percent: input.trail_percent.map(|d| d.0),
                trail_amount: input.trail_amount.map(|d| d.0),
            })?;
            let cmd = PlaceOrder {
                stock_id: stock_id.0,
                side: input.side.into(),
                quantity: Shares(input.quantity.into()),
                client_order_id: input.client_order_id,
                terms,
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

    /// Replaces one of the caller's OPEN (working) orders atomically: the order is CANCELED
    /// (`replacedBy` set) and a new one placed with the changes, its terms checked as a new
    /// order's; the new one keeps the `clientOrderId` and goes to the back of the time
    /// priority. CONFLICT when the order filled, ended or was replaced first; when refused
    /// nothing changes. Rate limited as `placeOrder`.
    #[graphql(guard = "RoleGuard::user()")]
    async fn replace_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order and what to change.")] input: ReplaceOrderInput,
    ) -> ApiResult<ReplaceOrderPayload> {
        let user_id = ctx.viewer()?.user_id;
        let result = async {
            let id = row_id(&input.id, Kind::Order, "id")?;
            let changes = ReplaceOrder {
                quantity: input.quantity.map(|q| Shares(q.into())),
                limit_price: input.limit_price.map(|d| d.0),
                stop_price: input.stop_price.map(|d| d.0),
                trail_percent: input.trail_percent.map(|d| d.0),
                trail_amount: input.trail_amount.map(|d| d.0),
                time_in_force: input.time_in_force.map(Into::into),
            };
            ctx.rate_limit(Limited::Order, &[&format!("order:user:{user_id}")])
                .await?;
            let trading = &ctx.services().trading;
            trading
                .replace_order(UserId(user_id), OrderId(id), changes)
                .await
        }
        .await;
        let (replaced, user_errors) = split(result)?;
        let (order, replaced_order) = match replaced {
            Some(r) => (Some(r.order.into()), Some(r.replaced.into())),
            None => (None, None),
        };
        Ok(ReplaceOrderPayload {
            order,
            replaced_order,
            user_errors,
        })
    }

    /// Cancels one of the caller's QUEUED or OPEN orders and releases its reservation.
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
