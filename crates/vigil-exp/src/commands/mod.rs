//! One module per subcommand.

pub(crate) mod advantage;
pub(crate) mod bench;
pub(crate) mod cert;
pub(crate) mod check;
pub(crate) mod data;
pub(crate) mod eval;
pub(crate) mod model;
pub(crate) mod opensec;
pub(crate) mod opensoc;
pub(crate) mod report;
pub(crate) mod resolution;
pub(crate) mod run;
pub(crate) mod serve;
pub(crate) mod serve_env;
pub(crate) mod sweep;
pub(crate) mod tokenize;

use crate::cli::Command;

/// Dispatches a parsed command.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(a) => run::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Sweep(a) => sweep::run(&a),
        Command::Report(a) => report::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Advantage(a) => advantage::run(&a),
        Command::Resolution(a) => resolution::run(&a),
        Command::ServeEnv(a) => serve_env::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Tokenize(a) => tokenize::tokenize(&a),
        Command::ChatTemplate(a) => tokenize::chat_template(&a),
        Command::Tokenizer(c) => tokenize::tokenizer(&c),
        Command::Model(c) => model::run(&c),
        Command::Bench(c) => bench::run(&c),
        Command::Opensec(c) => opensec::run(&c),
        Command::Data(c) => data::run(&c),
    }
}
