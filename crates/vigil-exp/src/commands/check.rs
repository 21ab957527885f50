//! `exp check`: validate a config (including `[rewards]` against the environment) and print the
//! resolved config with every default spelled out.

use clap::Args;

use crate::cli::ConfigArgs;
use crate::config;
use crate::wiring;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
}

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let loaded = config::load(&args.cfg.config, &args.cfg.set)?;
    let built = wiring::validate(&loaded.config)?;
    let env = built.env.as_dyn();
    let mut out = format!(
        "# {}: OK\n# environment `{}`; reward components (weight):",
        loaded.path.display(),
        env.name()
    );
    for (n, w) in built.rewards.named_weights() {
        out.push_str(&format!(" {n} ({w})"));
    }
    out.push_str(&format!(
        "\n# scripted baselines: {}\n",
        built.env.baseline_names().join(", ")
    ));
    out.push_str(&loaded.resolved_toml()?);
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(())
}
