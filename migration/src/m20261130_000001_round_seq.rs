//! `market_state.round_seq`: the number of the last tick round, incremented in each round's own
//! fenced transaction, so it rises by exactly one per round across leaders and restarts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MarketState::Table)
                    .add_column(big_integer(MarketState::RoundSeq).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MarketState::Table)
                    .drop_column(MarketState::RoundSeq)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MarketState {
    Table,
    RoundSeq,
}
