//! The units of an order: cents and whole shares, and the ids of users, stocks and orders, as
//! distinct types so that a quantity can never be passed where an amount is expected, nor one
//! id where another is (all are `i64` underneath). Conversions to and from plain numbers
//! happen at the edges: rows, GraphQL inputs and outputs.

use std::fmt;

use crate::domain::money::from_cents;

/// An amount of money in whole cents; negative for debits and for previews below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cents(pub i64);

/// A number of shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Shares(pub i64);

/// A user's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// A stock's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StockId(pub i64);

/// An order's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderId(pub i64);

impl Cents {
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }
}

impl Shares {
    pub fn checked_add(self, other: Shares) -> Option<Shares> {
        self.0.checked_add(other.0).map(Shares)
    }

    pub fn checked_sub(self, other: Shares) -> Option<Shares> {
        self.0.checked_sub(other.0).map(Shares)
    }
}

/// In dollars with two decimals, as people read money.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        from_cents(self.0).fmt(f)
    }
}

impl fmt::Display for Shares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
