//! `users.email_skeleton`: the UTS #39 confusable skeleton of the email, under a unique index,
//! so an account cannot be registered with a look-alike of another's email (a Cyrillic `е`,
//! fullwidth letters) and the check is one indexed read that races cannot get past.
//!
//! Nullable: the skeleton is computed in Rust, not SQL, so the server fills in existing rows
//! at start (`auth::backfill_skeletons`); a row whose email already looked like an older
//! row's keeps null (a unique index holds any number of nulls on both databases).

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

const INDEX: &str = "idx_users_email_skeleton";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(text_null(Users::EmailSkeleton))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(INDEX, Users::Table, &[Users::EmailSkeleton], true))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop an indexed column: the index first.
        manager
            .drop_index(Index::drop().name(INDEX).table(Users::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailSkeleton)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    EmailSkeleton,
}
