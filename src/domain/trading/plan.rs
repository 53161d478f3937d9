//! The fill plan: whether an order can be covered, and what it changes. Pure: every decision
//! about money and shares is made here, from rows read under the owner's lock, before anything
//! is written. Quote, immediate placement, queued placement and the open all ask [`cover`].

use std::fmt;

use super::{
    order::Side,
    units::{Cents, Shares},
};
use crate::domain::{Error, Result, market::stocks::Quote};

/// A user's cash as the plan sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funds {
    pub balance: Cents,
    /// Spoken for by queued buys.
    pub reserved: Cents,
}

impl Funds {
    /// What a new buy may spend: the balance less what queued buys reserved.
    pub fn available(self) -> Cents {
        Cents(self.balance.0.saturating_sub(self.reserved.0))
    }
}

/// A position as the plan sees it; all zero when none is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holding {
    pub quantity: Shares,
    /// Spoken for by queued sells.
    pub reserved: Shares,
    /// What the held shares cost in total (average cost × quantity).
    pub basis: Cents,
}

impl Holding {
    /// What a new sell may sell: the shares held less those queued sells reserved.
    pub fn free(self) -> Shares {
        Shares(self.quantity.0.saturating_sub(self.reserved.0))
    }
}

/// Why an order cannot be filled or reserved. A business outcome, not a failure: the caller
/// refuses the order (or rejects it at the open) with this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InsufficientFunds {
        needed: Cents,
        available: Cents,
        /// The amount is an estimate at the last price (queued buys), not a fill price.
        estimate: bool,
    },
    InsufficientShares {
        free: Shares,
    },
    /// Price × quantity (or a balance after it) does not fit in the money range.
    TooLarge,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::InsufficientFunds {
                needed,
                available,
                estimate,
            } => {
                let about = if *estimate { "about " } else { "" };
                write!(f, "needs {about}{needed}, available {available}")
            }
            Refusal::InsufficientShares { free } => write!(f, "holds {free} free shares"),
            Refusal::TooLarge => f.write_str("order value is too large"),
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::InsufficientFunds { .. } => Error::InsufficientFunds(r.to_string()),
            Refusal::InsufficientShares { .. } => Error::InsufficientShares(r.to_string()),
            Refusal::TooLarge => Error::bad_input("quantity", r.to_string()),
        }
    }
}

/// Price × quantity, refused rather than wrapped when it does not fit.
pub fn total(price: Cents, quantity: Shares) -> Result<Cents, Refusal> {
    price
        .0
        .checked_mul(quantity.0)
        .map(Cents)
        .ok_or(Refusal::TooLarge)
}

/// THE rule: can `quantity` shares worth `total` be covered? A buy needs `total` of available
/// cash; a sell needs `quantity` free shares. Reservations of queued orders count as spent.
pub fn cover(
    side: Side,
    quantity: Shares,
    total: Cents,
    funds: Funds,
    held: Holding,
) -> Result<(), Refusal> {
    match side {
        Side::Buy if funds.available() < total => Err(Refusal::InsufficientFunds {
            needed: total,
            available: funds.available(),
            estimate: false,
        }),
        Side::Sell if held.free() < quantity => {
            Err(Refusal::InsufficientShares { free: held.free() })
        }
        Side::Buy | Side::Sell => Ok(()),
    }
}

/// What a fill changes, decided (and checked) before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub price: Cents,
    pub total: Cents,
    /// Shares held after the fill, and their cost basis.
    pub quantity_after: Shares,
    pub basis_after: Cents,
    /// P&L this fill realized against the average cost (sells; zero for buys).
    pub realized: Cents,
}

/// Plans a fill of `quantity` shares at `price`, refused when it cannot be covered.
pub fn fill(
    side: Side,
    quantity: Shares,
    price: Cents,
    funds: Funds,
    held: Holding,
) -> Result<Fill, Refusal> {
    let total = total(price, quantity)?;
    cover(side, quantity, total, funds, held)?;
    match side {
        Side::Buy => Ok(Fill {
            price,
            total,
            quantity_after: held
                .quantity
                .checked_add(quantity)
                .ok_or(Refusal::TooLarge)?,
            basis_after: held.basis.checked_add(total).ok_or(Refusal::TooLarge)?,
            realized: Cents(0),
        }),
        Side::Sell => {
            // Average cost: the sold shares take their proportional part of the cost basis
            // (rounded down), and selling everything takes all of it.
            let removed = if quantity == held.quantity {
                held.basis
            } else {
                let part =
                    i128::from(held.basis.0) * i128::from(quantity.0) / i128::from(held.quantity.0);
                Cents(i64::try_from(part).map_err(|_| Refusal::TooLarge)?)
            };
            Ok(Fill {
                price,
                total,
                quantity_after: held
                    .quantity
                    .checked_sub(quantity)
                    .ok_or(Refusal::TooLarge)?,
                basis_after: held.basis.checked_sub(removed).ok_or(Refusal::TooLarge)?,
                realized: total.checked_sub(removed).ok_or(Refusal::TooLarge)?,
            })
        }
    }
}

/// Why a quoted order would be refused if placed now. A closed market is not one: the order
/// would queue (and be checked again at the open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteProblem {
    /// A buy costs more than the available cash (balance less reservations).
    InsufficientFunds,
    /// A sell asks for more shares than are held and not reserved.
    InsufficientShares,
    /// The stock is halted: it takes no new orders.
    StockHalted,
}

impl QuoteProblem {
    /// The short form a quote shows as its `problem`, for people.
    pub fn message(self) -> &'static str {
        match self {
            QuoteProblem::InsufficientFunds => "insufficient funds",
            QuoteProblem::InsufficientShares => "insufficient shares",
            QuoteProblem::StockHalted => "the stock is halted",
        }
    }
}

/// What a quote shows: the after-trade amounts even when the order cannot be covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    pub total: Cents,
    /// The cash balance after the order (below zero for a buy that cannot be covered).
    pub cash_after: Cents,
    /// Shares held after the order (below zero for a sell that cannot be covered).
    pub shares_after: Shares,
    /// Why it could not be covered, if it could not (never `StockHalted`: the plan does not
    /// know the stock).
    pub problem: Option<QuoteProblem>,
}

/// Previews an order at `price`. Only an amount too large to represent is an error.
pub fn preview(
    side: Side,
    quantity: Shares,
    price: Cents,
    funds: Funds,
    held: Holding,
) -> Result<Preview, Refusal> {
    let total = total(price, quantity)?;
    let (cash_after, shares_after) = match side {
        Side::Buy => (
            funds.balance.checked_sub(total),
            held.quantity.checked_add(quantity),
        ),
        Side::Sell => (
            funds.balance.checked_add(total),
            held.quantity.checked_sub(quantity),
        ),
    };
    let problem = match cover(side, quantity, total, funds, held) {
        Ok(()) => None,
        Err(Refusal::InsufficientFunds { .. }) => Some(QuoteProblem::InsufficientFunds),
        Err(Refusal::InsufficientShares { .. }) => Some(QuoteProblem::InsufficientShares),
        Err(too_large @ Refusal::TooLarge) => return Err(too_large),
    };
    Ok(Preview {
        total,
        cash_after: cash_after.ok_or(Refusal::TooLarge)?,
        shares_after: shares_after.ok_or(Refusal::TooLarge)?,
        problem,
    })
}

/// What a queued order holds until the open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A buy's estimated cost at the last price.
    Cash(Cents),
    /// A sell's shares.
    Shares(Shares),
}

/// Plans what an order placed while the market is closed reserves, refused when it cannot be
/// covered now (it is checked again at the open, at the price then).
pub fn reserve(
    side: Side,
    quantity: Shares,
    last_price: Cents,
    funds: Funds,
    held: Holding,
) -> Result<Reservation, Refusal> {
    let estimate = total(last_price, quantity)?;
    cover(side, quantity, estimate, funds, held).map_err(|r| match r {
        Refusal::InsufficientFunds {
            needed, available, ..
        } => Refusal::InsufficientFunds {
            needed,
            available,
            estimate: true,
        },
        other => other,
    })?;
    Ok(match side {
        Side::Buy => Reservation::Cash(estimate),
        Side::Sell => Reservation::Shares(quantity),
    })
}

/// What a queued order meets at the open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtOpen {
    /// The stock is gone or halted: reject the order, releasing its reservation.
    Reject(&'static str),
    /// Plan a fill at the stock's last price.
    Fill { price: Cents },
}

/// Decides from the stock lookup (`None`: no such stock) what a queued order meets at the
/// open. A FAILED lookup is not a halt: the error goes back so the attempt aborts and the
/// order stays queued for the next pass.
pub fn at_open(lookup: Result<Option<Quote>>) -> Result<AtOpen> {
    Ok(match lookup? {
        Some(stock) if stock.active => AtOpen::Fill {
            price: Cents(stock.last_cents),
        },
        Some(_) | None => AtOpen::Reject("the stock is halted"),
    })
}

#[cfg(test)]
mod tests;
