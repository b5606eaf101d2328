"""`prodigy resume` and `prodigy resume-job`."""

from __future__ import annotations

from typing import Any

import click

from prodigy.cli.common import executor_options, limit_options, path_option, verbosity


@click.command("resume")
@click.argument("session_id", required=False)
@click.option(
    "--force",
    is_flag=True,
    help="Resume even if the workflow file changed since the run started, or before a"
    " usage limit's reset (resume_at).",
)
@click.option(
    "--from-checkpoint", default=None, metavar="ID", help="Resume from a named checkpoint."
)
@click.option("-y", "--yes", is_flag=True, help="Merge without asking when the run completes.")
@limit_options
@path_option
@click.pass_context
def resume(ctx: click.Context, /, **kw: Any) -> int:
    """Continue an interrupted or failed session from the first step not completed.

    Completed steps never run again; variables captured before the interruption are
    restored. Without SESSION_ID the newest resumable session is taken. When all steps
    succeed you are asked to merge, as after `prodigy run`.
    """
    import os

    from prodigy.app.resume import ResumeRequest
    from prodigy.app.resume import resume as resume_session
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display
    from prodigy.cli.run_cmd import read_line
    from prodigy.core.errors import NotImplementedYetError

    if kw["from_checkpoint"]:
        raise NotImplementedYetError("--from-checkpoint")
    if kw["path"]:
        os.chdir(kw["path"])
    display = make_run_display(verbosity(ctx))
    try:
        return run_async(
            resume_session(
                ResumeRequest(
                    kw["session_id"],
                    kw["force"],
                    kw["yes"],
                    verbosity(ctx),
                    max_cost_usd=kw["max_cost_usd"],
                    max_tokens=kw["max_tokens"],
                ),
                display,
                dict(os.environ),
                read_line,
            )
        )
    finally:
        display.close()


@click.command("resume-job")
@click.argument("job_id")
@click.option(
    "--force",
    is_flag=True,
    help="Resume even if the workflow file changed, or before a usage limit's reset.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also run dead-lettered items again that failed at most N times (0: leave the DLQ).",
)
@click.option("-y", "--yes", is_flag=True, help="Merge without asking when the job completes.")
@limit_options
@path_option
@executor_options
@click.pass_context
def resume_job(ctx: click.Context, /, **kw: Any) -> int:
    """Continue an interrupted, crashed or failed MapReduce job.

    Setup steps that finished and items that landed never run again (git is the truth for
    what landed); items that were running run again in fresh worktrees; reduce continues
    at its first unfinished step; then the merge back, as after `prodigy run`.
    """
    import os

    from prodigy.app.mapreduce.resume import JobResumeRequest
    from prodigy.app.mapreduce.resume import resume_job as resume_mapreduce_job
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display
    from prodigy.cli.run_cmd import read_line

    if kw["path"]:
        os.chdir(kw["path"])
    display = make_run_display(verbosity(ctx))
    request = JobResumeRequest(
        job_id=kw["job_id"],
        force=kw["force"],
        max_retries=kw["max_retries"],
        yes=kw["yes"],
        executor=kw["executor"],
        ray_address=kw["ray_address"],
        verbosity=verbosity(ctx),
        max_cost_usd=kw["max_cost_usd"],
        max_tokens=kw["max_tokens"],
    )
    try:
        return run_async(resume_mapreduce_job(request, display, dict(os.environ), read_line))
    finally:
        display.close()


COMMANDS = [resume, resume_job]
