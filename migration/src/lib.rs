//! Schema migrations: append-only, one per file, forward and back on SQLite and PostgreSQL.
//!
//! Money columns are `BIGINT` cents (see the `entity` crate).

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_accounts;
mod m20261125_000002_market;
mod m20261125_000003_trading;
mod m20261125_000004_audit;
mod m20261126_000001_session_epoch;
mod m20261126_000002_audit_actor;
mod m20261127_000001_cash_requests;
mod m20261130_000001_round_seq;
mod m20261201_000001_cash_request_ledger;
mod m20261202_000001_calendar_day_kinds;
mod m20261202_000001_working_orders;
mod m20261203_000001_email_skeleton;
mod m20261204_000001_equity_history;
mod m20261205_000001_trailing_in_place;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_market::Migration),
            Box::new(m20261125_000003_trading::Migration),
            Box::new(m20261125_000004_audit::Migration),
            Box::new(m20261126_000001_session_epoch::Migration),
            Box::new(m20261126_000002_audit_actor::Migration),
            Box::new(m20261127_000001_cash_requests::Migration),
            Box::new(m20261130_000001_round_seq::Migration),
            Box::new(m20261201_000001_cash_request_ledger::Migration),
            Box::new(m20261202_000001_calendar_day_kinds::Migration),
            Box::new(m20261202_000001_working_orders::Migration),
            Box::new(m20261203_000001_email_skeleton::Migration),
            Box::new(m20261204_000001_equity_history::Migration),
            Box::new(m20261205_000001_trailing_in_place::Migration),
        ]
    }
}

/// A named index on `table (cols…)`.
pub(crate) fn index<T: IntoIden + Copy + 'static>(
    name: &str,
    table: T,
    cols: &[T],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for &col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    stmt.take()
}

/// A foreign key from `from_table.from_col` to `to_table.id`.
pub(crate) fn fk<A: IntoIden + 'static, B: IntoIden + 'static>(
    from_table: A,
    from_col: A,
    to_table: B,
    to_col: B,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}
pub use sea_orm_migration::MigrationStatus;
