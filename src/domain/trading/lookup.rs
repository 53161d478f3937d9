//! Single records by id, for whoever may read them: their owner, or any admin. A record the
//! reader may not see reads as absent, exactly like one that does not exist.

use entity::{cash_ledger, orders, trades};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    Trading,
    cash::LedgerEntry,
    orders::{Order, Trade},
    units::UserId,
};
use crate::domain::{Result, admin::Admin};

/// Who reads: the owner of the records, or an admin (with the proof of it).
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    Owner(UserId),
    Admin(&'a Admin),
}

impl Reader<'_> {
    /// Whether this reader may see a record owned by `user_id`.
    pub fn sees(&self, user_id: i64) -> bool {
        match self {
            Reader::Owner(owner) => owner.0 == user_id,
            Reader::Admin(_) => true,
        }
    }
}

impl Trading {
    pub async fn order_for(&self, reader: Reader<'_>, id: i64) -> Result<Option<Order>> {
        let row = orders::Entity::find_by_id(id).one(&self.db).await?;
        row.filter(|o| reader.sees(o.user_id))
            .map(Order::try_from)
            .transpose()
    }

    pub async fn trade_for(&self, reader: Reader<'_>, id: i64) -> Result<Option<Trade>> {
        let row = trades::Entity::find_by_id(id).one(&self.db).await?;
        row.filter(|t| reader.sees(t.user_id))
            .map(Trade::try_from)
            .transpose()
    }

    pub async fn ledger_entry_for(
        &self,
        reader: Reader<'_>,
        id: i64,
    ) -> Result<Option<LedgerEntry>> {
        let row = cash_ledger::Entity::find_by_id(id).one(&self.db).await?;
        row.filter(|r| reader.sees(r.user_id))
            .map(LedgerEntry::try_from)
            .transpose()
    }

    /// The fills of an order, oldest first (a market order has one).
    pub async fn trades_of_order(&self, order_id: i64) -> Result<Vec<Trade>> {
        trades::Entity::find()
            .filter(trades::Column::OrderId.eq(order_id))
            .order_by_asc(trades::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Trade::try_from)
            .collect()
    }
}
