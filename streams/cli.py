"""The ``restock`` command line: the edge where settings are read and the parts are wired together."""

from __future__ import annotations

import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer

from streams.errors import ConfigurationError, StreamsError
from streams.settings import Settings, load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="restock: Kafka events in, reorder commands out.")
topics_app = typer.Typer(no_args_is_help=True, help="Create or describe restock's topics.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print a table and a final JSON line.")
app.add_typer(topics_app, name="topics")
app.add_typer(bench_app, name="bench")

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file (RESTOCK_CONFIG).")]
BootstrapOption = Annotated[
    str | None, typer.Option("--bootstrap-servers", help="Kafka host:port list (RESTOCK_BOOTSTRAP_SERVERS).")
]


def _settings(config: Path | None, bootstrap: str | None = None) -> Settings:
    overrides = {"bootstrap_servers": bootstrap} if bootstrap else {}
    return load_settings(config, **overrides)


def _bootstrap(settings: Settings) -> str:
    if not settings.bootstrap_servers:
        raise ConfigurationError("no Kafka given: pass --bootstrap-servers or set RESTOCK_BOOTSTRAP_SERVERS")
    return settings.bootstrap_servers


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(f"restock {package_version('restock')}")


@app.command()
def worker(config: ConfigOption = None, bootstrap_servers: BootstrapOption = None) -> None:
    """Run a stream worker (one consumer-group member) until SIGINT/SIGTERM."""
    from streams.run_worker import run_worker

    run_worker(_settings(config, bootstrap_servers))


@topics_app.command("create")
def topics_create(config: ConfigOption = None, bootstrap_servers: BootstrapOption = None) -> None:
    """Create the input, output and dead-letter topics (existing ones are left alone)."""
    from streams.admin import create_topics

    settings = _settings(config, bootstrap_servers)
    created = create_topics(settings, _bootstrap(settings))
    for name in settings.all_topics:
        typer.echo(f"{name}: {'created' if name in created else 'exists'}")


@topics_app.command("describe")
def topics_describe(config: ConfigOption = None, bootstrap_servers: BootstrapOption = None) -> None:
    """Show each topic's partition count."""
    from streams.admin import describe_topics

    settings = _settings(config, bootstrap_servers)
    for info in describe_topics(settings, _bootstrap(settings)):
        typer.echo(f"{info.name}: {info.partitions} partitions" if info.exists else f"{info.name}: missing")


@app.command()
def produce(
    orders: Annotated[Path | None, typer.Option(help="Parquet or CSV of order lines to replay in time order.")] = None,
    preset: Annotated[
        str | None, typer.Option(help="Column mapping preset for --orders: 'online-retail' (UCI Online Retail).")
    ] = None,
    col_order_id: Annotated[str | None, typer.Option(help="Column with the order id.")] = None,
    col_sku: Annotated[str | None, typer.Option(help="Column with the SKU.")] = None,
    col_quantity: Annotated[str | None, typer.Option(help="Column with the quantity.")] = None,
    col_time: Annotated[str | None, typer.Option(help="Column with the order time.")] = None,
    col_price: Annotated[str | None, typer.Option(help="Column with the unit price.")] = None,
    col_location: Annotated[str | None, typer.Option(help="Column with the location (else --location).")] = None,
    location: Annotated[str | None, typer.Option(help="Location for every line when no column gives one.")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency code for every line.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of naive timestamps, e.g. Europe/London.")] = None,
    cancel_prefix: Annotated[str | None, typer.Option(help="Order-id prefix that marks a cancellation.")] = None,
    limit: Annotated[int | None, typer.Option(help="Replay only the first N rows of the file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample generator (without --orders).")] = 7,
    bad_fraction: Annotated[float, typer.Option(help="Share of bad messages the generator sprinkles in.")] = 0.005,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Publish events: the seeded sample history, or a file of order lines (--orders)."""
    from streams.publish import publish

    settings = _settings(config, bootstrap_servers)
    bootstrap = _bootstrap(settings)
    if orders is None:
        from streams.sample_events import demo_history

        history = demo_history(seed, bad_fraction=bad_fraction)
        report = publish(history.messages, settings, bootstrap)
        typer.echo(f"published {report.sent} sample messages ({history.bad_total} deliberately bad)")
        return
    from dataclasses import replace

    from streams.order_lines import PRESETS, OrderLineColumns, replay_order_lines

    mapping = {
        "order_id": col_order_id, "sku": col_sku, "quantity": col_quantity, "time": col_time, "price": col_price,
        "location_column": col_location, "location": location, "currency": currency, "timezone": timezone,
        "cancel_prefix": cancel_prefix, "max_quantity": settings.max_quantity,
    }  # fmt: skip
    given = {k: v for k, v in mapping.items() if v is not None}
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigurationError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        columns = replace(PRESETS[preset], **given)  # type: ignore[arg-type]
    else:
        missing = [
            f"--col-{k.replace('_', '-')}" for k in ("order_id", "sku", "quantity", "time", "price") if k not in given
        ]
        if missing:
            raise ConfigurationError(f"--orders needs {', '.join(missing)} (or --preset online-retail)")
        columns = OrderLineColumns(**given)  # type: ignore[arg-type]
    replay = replay_order_lines(orders, columns, nrows=limit)
    report = publish(replay.messages, settings, bootstrap)
    typer.echo(f"published {report.sent} order events from {orders}")
    for category, count in replay.summary.as_dict().items():
        typer.echo(f"  {category}: {count}")


@app.command()
def tail(
    topic: Annotated[str, typer.Option(help="Topic to print, e.g. restock.reorders or restock.dlq.")],
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Print every record of a topic as one JSON line each (key, then value), from the beginning."""
    from streams.topic_reader import read_topic

    settings = _settings(config, bootstrap_servers)
    for key, value in read_topic(_bootstrap(settings), topic):
        typer.echo(f"{(key or b'').decode(errors='replace')}\t{value.decode(errors='replace')}")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the bundled sample history.")] = 7,
    workdir: Annotated[Path, typer.Option(help="Folder for the demo's state and logs.")] = Path("var/demo"),
) -> None:
    """Embedded broker + worker + bundled history, then a summary. Needs nothing installed by hand."""
    from streams.demo import run_demo

    run_demo(seed=seed, workdir=workdir)


@bench_app.command("ingest")
def bench_ingest(
    events: Annotated[int, typer.Option(help="Events to publish.")] = 200_000,
    keys: Annotated[int, typer.Option(help="Distinct sku|location keys (Zipf popularity).")] = 10_000,
    partitions: Annotated[int, typer.Option(help="Partitions per topic.")] = 4,
    workdir: Annotated[Path, typer.Option(help="Folder for state and logs.")] = Path("var/bench"),
) -> None:
    """Worker throughput with state updates vs a raw consumer and Faust's no-op ceiling."""
    from streams.bench_ingest import run_bench

    run_bench(events=events, keys=keys, partitions=partitions, workdir=workdir)


def main() -> None:
    try:
        app()
    except StreamsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
