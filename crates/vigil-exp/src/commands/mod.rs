//! One module per subcommand.

pub(crate) mod advantage;
pub(crate) mod check;
pub(crate) mod eval;
pub(crate) mod model;
pub(crate) mod opensec;
pub(crate) mod run;
pub(crate) mod serve_env;
pub(crate) mod tokenize;

use crate::cli::Command;

/// Dispatches a parsed command.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(a) => run::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Advantage(a) => advantage::run(&a),
        Command::ServeEnv(a) => serve_env::run(&a),
        Command::Model(c) => model::run(&c),
        Command::Tokenize(a) => tokenize::tokenize(&a),
        Command::ChatTemplate(a) => tokenize::chat_template(&a),
        Command::Tokenizer(c) => tokenize::tokenizer(&c),
        Command::Opensec(c) => opensec::run(&c),
    }
}
