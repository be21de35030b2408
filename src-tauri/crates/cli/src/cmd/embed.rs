//! `llmaas embed`: vectors for texts, through the router (and so metered).

use std::io::{BufRead as _, IsTerminal as _};

use llmaas_core::ModelId;
use llmaas_router::RequestOptions;

use crate::args::EmbedArgs;
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

pub async fn run(ctx: &Ctx, args: &EmbedArgs) -> Result<Exit, CliError> {
    let texts: Vec<String> = if args.texts.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!("One text per line; end with Ctrl-D.");
        }
        std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::io("reading stdin"))?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        args.texts.clone()
    };
    if texts.is_empty() {
        return Err(CliError::Usage("nothing to embed".into()));
    }
    let model = ModelId::new(
        args.model
            .clone()
            .unwrap_or_else(|| ctx.settings.models.embedding.clone()),
    );
    let router = ctx.router().await?;
    let options = RequestOptions {
        policy: args.route.policy(),
        project: args.project.clone(),
        ..RequestOptions::default()
    };
    let embedded = router.embed(&model, &texts, options).await?;
    if ctx.json {
        output::json(&embedded)?;
    } else {
        for (text, v) in texts.iter().zip(&embedded.vectors) {
            let head: Vec<String> = v.iter().take(4).map(|x| format!("{x:.4}")).collect();
            let short: String = text.chars().take(40).collect();
            output::line(format_args!(
                "{} dims [{}, …]  {short}",
                v.len(),
                head.join(", ")
            ))?;
        }
        eprintln!("{}", super::chat::summary_line(&embedded.summary));
    }
    Ok(Exit::Ok)
}
