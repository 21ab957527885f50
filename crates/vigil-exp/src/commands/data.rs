//! `exp data …`: dataset tools, one subcommand per environment.

use clap::Subcommand;

/// `exp data <env> …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// OpenSOC: gold SFT examples, hold-out regeneration and validation.
    #[command(subcommand)]
    Opensoc(crate::commands::opensoc::OpensocCommand),
    /// CERT r4.2 insider-threat data: synthetic generator, windows and splits, ingest bench.
    #[command(subcommand)]
    Cert(crate::commands::cert::CertCommand),
}

pub(crate) fn run(cmd: &DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Opensoc(c) => crate::commands::opensoc::run(c),
        DataCommand::Cert(c) => crate::commands::cert::run(c),
    }
}
