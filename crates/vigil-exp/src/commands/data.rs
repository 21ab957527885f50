//! `exp data …`: dataset tools, one subcommand per environment.

use clap::Subcommand;

/// `exp data <env> …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// OpenSOC: gold SFT examples, hold-out regeneration and validation.
    #[command(subcommand)]
    Opensoc(crate::commands::opensoc::OpensocCommand),
}

pub(crate) fn run(cmd: &DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Opensoc(c) => crate::commands::opensoc::run(c),
    }
}
