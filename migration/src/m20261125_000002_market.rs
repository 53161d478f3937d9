use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stocks::Table)
                    .col(big_pk_auto(Stocks::Id))
                    .col(string_len_uniq(Stocks::Symbol, 10))
                    .col(string_len(Stocks::Name, 100))
                    .col(double(Stocks::Drift))
                    .col(double(Stocks::Volatility))
                    .col(boolean(Stocks::Active).default(true))
                    .col(timestamp_with_time_zone(Stocks::CreatedAt))
                    .col(timestamp_with_time_zone(Stocks::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PricesLive::Table)
                    .col(big_integer(PricesLive::StockId).primary_key())
                    .col(big_integer(PricesLive::LastCents))
                    .col(big_integer(PricesLive::OpenCents))
                    .col(big_integer(PricesLive::HighCents))
                    .col(big_integer(PricesLive::LowCents))
                    .col(big_integer(PricesLive::PrevCloseCents))
                    .col(big_integer(PricesLive::ChangeCents))
                    .col(date(PricesLive::SessionDate))
                    .col(timestamp_with_time_zone(PricesLive::UpdatedAt))
                    .foreign_key(&mut fk(
                        PricesLive::Table,
                        PricesLive::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .check(Expr::col(PricesLive::LastCents).gt(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PriceTicks::Table)
                    .col(big_pk_auto(PriceTicks::Id))
                    .col(big_integer(PriceTicks::StockId))
                    .col(big_integer(PriceTicks::PriceCents))
                    .col(timestamp_with_time_zone(PriceTicks::At))
                    .foreign_key(&mut fk(
                        PriceTicks::Table,
                        PriceTicks::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_price_ticks_stock_at",
                PriceTicks::Table,
                &[PriceTicks::StockId, PriceTicks::At],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_price_ticks_at",
                PriceTicks::Table,
                &[PriceTicks::At],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CandleData::Table)
                    .col(big_pk_auto(CandleData::Id))
                    .col(big_integer(CandleData::StockId))
                    .col(string_len(CandleData::Interval, 4))
                    .col(timestamp_with_time_zone(CandleData::BucketStart))
                    .col(big_integer(CandleData::OpenCents))
                    .col(big_integer(CandleData::HighCents))
                    .col(big_integer(CandleData::LowCents))
                    .col(big_integer(CandleData::CloseCents))
                    .col(big_integer(CandleData::TickCount))
                    .col(timestamp_with_time_zone(CandleData::UpdatedAt))
                    .foreign_key(&mut fk(
                        CandleData::Table,
                        CandleData::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_candle_data_stock_interval_bucket",
                CandleData::Table,
                &[
                    CandleData::StockId,
                    CandleData::Interval,
                    CandleData::BucketStart,
                ],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketState::Table)
                    .col(integer(MarketState::Id).primary_key())
                    .col(boolean(MarketState::IsOpen))
                    .col(boolean_null(MarketState::OverrideOpen))
                    .col(string_null(MarketState::OverrideReason))
                    .col(big_integer_null(MarketState::OverrideBy))
                    .col(timestamp_with_time_zone_null(MarketState::OverrideAt))
                    .col(timestamp_with_time_zone(MarketState::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketHours::Table)
                    .col(integer(MarketHours::Weekday).primary_key())
                    .col(time(MarketHours::OpenTime))
                    .col(time(MarketHours::CloseTime))
                    .col(boolean(MarketHours::Closed))
                    .col(timestamp_with_time_zone(MarketHours::UpdatedAt))
                    .check(Expr::col(MarketHours::Weekday).between(0, 6))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketCalendar::Table)
                    .col(big_pk_auto(MarketCalendar::Id))
                    .col(date_uniq(MarketCalendar::Date))
                    .col(string_len(MarketCalendar::Name, 100))
                    .col(timestamp_with_time_zone(MarketCalendar::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MarketCalendar::Table.into_iden(),
            MarketHours::Table.into_iden(),
            MarketState::Table.into_iden(),
            CandleData::Table.into_iden(),
            PriceTicks::Table.into_iden(),
            PricesLive::Table.into_iden(),
            Stocks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Stocks {
    Table,
    Id,
    Symbol,
    Name,
    Drift,
    Volatility,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PricesLive {
    Table,
    StockId,
    LastCents,
    OpenCents,
    HighCents,
    LowCents,
    PrevCloseCents,
    ChangeCents,
    SessionDate,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PriceTicks {
    Table,
    Id,
    StockId,
    PriceCents,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum CandleData {
    Table,
    Id,
    StockId,
    Interval,
    BucketStart,
    OpenCents,
    HighCents,
    LowCents,
    CloseCents,
    TickCount,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketState {
    Table,
    Id,
    IsOpen,
    OverrideOpen,
    OverrideReason,
    OverrideBy,
    OverrideAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketHours {
    Table,
    Weekday,
    OpenTime,
    CloseTime,
    Closed,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketCalendar {
    Table,
    Id,
    Date,
    Name,
    CreatedAt,
}
