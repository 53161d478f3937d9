//! Equity history and the leaderboard.
//!
//! `equity_snapshots`: each account's value at instants the engine records (every five
//! minutes while the market is open, and at each close), one row per account and instant
//! under a unique index, so a snapshot recorded twice (a failover, a retry) stays one row.
//! `grain` says which history intervals a row serves: 0 five-minute, 1 hourly, 2 the day's
//! close; older five-minute and hourly rows are pruned, closes are kept.
//!
//! `users.leaderboard_name` (nullable: null means not on the leaderboard) and its confusable
//! skeleton under a unique index, so two players cannot show the same-looking name.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

const NAME_INDEX: &str = "idx_users_leaderboard_skeleton";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EquitySnapshots::Table)
                    .col(big_pk_auto(EquitySnapshots::Id))
                    .col(big_integer(EquitySnapshots::UserId))
                    .col(timestamp_with_time_zone(EquitySnapshots::At))
                    .col(small_integer(EquitySnapshots::Grain))
                    .col(big_integer(EquitySnapshots::CashCents))
                    .col(big_integer(EquitySnapshots::PositionsValueCents))
                    .foreign_key(&mut fk(
                        EquitySnapshots::Table,
                        EquitySnapshots::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_equity_snapshots_user_at",
                EquitySnapshots::Table,
                &[EquitySnapshots::UserId, EquitySnapshots::At],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_equity_snapshots_at",
                EquitySnapshots::Table,
                &[EquitySnapshots::At],
                false,
            ))
            .await?;
        // Two columns, two statements: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len_null(Users::LeaderboardName, 24))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(text_null(Users::LeaderboardSkeleton))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                NAME_INDEX,
                Users::Table,
                &[Users::LeaderboardSkeleton],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop an indexed column: the index first.
        manager
            .drop_index(
                Index::drop()
                    .name(NAME_INDEX)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for col in [Users::LeaderboardSkeleton, Users::LeaderboardName] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(EquitySnapshots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum EquitySnapshots {
    Table,
    Id,
    UserId,
    At,
    Grain,
    CashCents,
    PositionsValueCents,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    LeaderboardName,
    LeaderboardSkeleton,
}
