//! Creating stocks and changing them (including halting).

use entity::stocks;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use serde_json::json;

use super::{Admin, Administration, Change, audit};
use crate::{
    bus::Event,
    domain::{
        Error, Result,
        market::{self, backfill, stocks::Quote},
        money, text,
        trading::queue,
    },
};

#[derive(Debug, Clone)]
pub struct NewStock {
    pub symbol: String,
    pub name: String,
    pub initial_price: Decimal,
    pub drift: Option<f64>,
    pub volatility: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct StockChanges {
    pub name: Option<String>,
    pub drift: Option<f64>,
    pub volatility: Option<f64>,
    pub active: Option<bool>,
}

/// 1–10 upper-case letters, digits or dots (input is upper-cased first). ASCII only, so no
/// look-alike or invisible character can get in: no normalization needed.
pub fn parse_symbol(raw: &str) -> Result<String> {
    let symbol = raw.trim().to_uppercase();
    let ok = (1..=10).contains(&symbol.len())
        && symbol
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.');
    if ok {
        Ok(symbol)
    } else {
        Err(Error::bad_input(
            "symbol",
            "symbol must be 1 to 10 letters, digits or dots",
        ))
    }
}

/// A company name: NFKC, trimmed, nothing invisible, 1–100 characters.
fn stock_name(raw: &str) -> Result<String> {
    let name = text::name(raw, "name")?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::bad_input("name", "name must be 1 to 100 characters"));
    }
    Ok(name)
}

fn drift(value: f64) -> Result<f64> {
    if value.is_finite() && value.abs() <= 0.1 {
        Ok(value)
    } else {
        Err(Error::bad_input(
            "drift",
            "drift must be between -0.1 and 0.1 per trading day",
        ))
    }
}

fn volatility(value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= 0.5 {
        Ok(value)
    } else {
        Err(Error::bad_input(
            "volatility",
            "volatility must be above 0 and at most 0.5 per trading day",
        ))
    }
}

fn snapshot(s: &stocks::Model) -> serde_json::Value {
    json!({ "symbol": s.symbol, "name": s.name, "drift": s.drift, "volatility": s.volatility, "active": s.active })
}

impl Administration {
    /// Lists every stock, halted ones included.
    pub async fn stocks(&self, _admin: &Admin) -> Result<Vec<Quote>> {
        market::stocks::list(&self.db, market::stocks::Listing::All).await
    }

    /// Creates a stock and backfills its candle history before returning.
    pub async fn create_stock(&self, admin: &Admin, input: NewStock) -> Result<Quote> {
        let symbol = parse_symbol(&input.symbol)?;
        let name = stock_name(&input.name)?;
        let cents = money::to_cents(input.initial_price, "initialPrice")?;
        if cents <= 0 {
            return Err(Error::bad_input(
                "initialPrice",
                "initialPrice must be positive",
            ));
        }
        let drift = drift(input.drift.unwrap_or(self.defaults.0))?;
        let volatility = volatility(input.volatility.unwrap_or(self.defaults.1))?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let session_date = now.with_timezone(&self.tz).date_naive();
        let stock = market::stocks::create(
            &txn,
            &symbol,
            &name,
            drift,
            volatility,
            cents,
            session_date,
            now,
        )
        .await
        .map_err(|e| Error::conflict_on_unique(e, format!("symbol {symbol} is taken")))?;
        let change = Change {
            action: "stock.create",
            target_type: "stock",
            target_id: Some(stock.id.to_string()),
            before: None,
            after: Some(
                json!({ "initialPrice": money::from_cents(cents), "stock": snapshot(&stock) }),
            ),
        };
        audit(&txn, admin, change, now).await?;
        let quote = market::stocks::by_id(&txn, stock.id).await?;
        let calendar = self.market_config(&txn).await?.calendar;
        txn.commit().await?;
        self.stocks_changed().await;
        backfill::ensure_history(&self.db, &calendar, self.backfill, &quote, now).await?;
        Ok(quote)
    }

    /// Changes a stock. Halting it (`active: false`) rejects its queued orders, which releases
    /// what they reserved; the engine stops ticking it at the next round.
    pub async fn update_stock(
        &self,
        admin: &Admin,
        id: i64,
        changes: StockChanges,
    ) -> Result<Quote> {
        let name = changes.name.as_deref().map(stock_name).transpose()?;
        let drift = changes.drift.map(drift).transpose()?;
        let volatility = changes.volatility.map(volatility).transpose()?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let before = stocks::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound("stock".into()))?;
        let mut model: stocks::ActiveModel = before.clone().into();
        if let Some(name) = name {
            model.name = Set(name);
        }
        if let Some(drift) = drift {
            model.drift = Set(drift);
        }
        if let Some(volatility) = volatility {
            model.volatility = Set(volatility);
        }
        if let Some(active) = changes.active {
            model.active = Set(active);
        }
        model.updated_at = Set(now);
        let after = model.update(&txn).await?;
        let rejected = if before.active && !after.active {
            queue::reject_queued_for_stock(&txn, id, "the stock was halted", now).await?
        } else {
            Vec::new()
        };
        let change = Change {
            action: "stock.update",
            target_type: "stock",
            target_id: Some(id.to_string()),
            before: Some(snapshot(&before)),
            after: Some(json!({ "stock": snapshot(&after), "rejectedOrders": rejected.len() })),
        };
        audit(&txn, admin, change, now).await?;
        let quote = market::stocks::by_id(&txn, id).await?;
        txn.commit().await?;
        self.stocks_changed().await;
        metrics::counter!("zebrat_orders_rejected_total", "stage" => "halt")
            .increment(rejected.len() as u64);
        for order in rejected {
            self.publish(Event::OrderUpdated(Box::new(order.clone())))
                .await;
        }
        Ok(quote)
    }
}
