"""The ``restock`` command line: the edge where settings are read and the parts are wired together."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecasting.errors import ForecastError
from streams.errors import ConfigurationError, StreamsError

if TYPE_CHECKING:
    from forecasting.long_table import SeriesTable
    from streams.order_lines import OrderLineColumns
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


PresetOption = Annotated[
    str | None, typer.Option(help="Column mapping preset for --orders: 'online-retail' (UCI Online Retail).")
]
ColOrderId = Annotated[str | None, typer.Option(help="Column with the order id.")]
ColSku = Annotated[str | None, typer.Option(help="Column with the SKU.")]
ColQuantity = Annotated[str | None, typer.Option(help="Column with the quantity.")]
ColTime = Annotated[str | None, typer.Option(help="Column with the order time.")]
ColPrice = Annotated[str | None, typer.Option(help="Column with the unit price.")]
ColLocation = Annotated[str | None, typer.Option(help="Column with the location (else --location).")]
LocationOption = Annotated[str | None, typer.Option(help="Location for every line when no column gives one.")]
CurrencyOption = Annotated[str | None, typer.Option(help="Currency code for every line.")]
TimezoneOption = Annotated[str | None, typer.Option(help="Time zone of naive timestamps, e.g. Europe/London.")]
CancelPrefixOption = Annotated[str | None, typer.Option(help="Order-id prefix that marks a cancellation.")]


def _order_columns(preset: str | None, given: Mapping[str, object]) -> OrderLineColumns:
    """The column mapping of an order-line file: a preset with overrides, or every required column given."""
    from dataclasses import replace

    from streams.order_lines import PRESETS, OrderLineColumns

    chosen = {k: v for k, v in given.items() if v is not None}
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigurationError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        return replace(PRESETS[preset], **chosen)  # type: ignore[arg-type]
    missing = [
        f"--col-{k.replace('_', '-')}" for k in ("order_id", "sku", "quantity", "time", "price") if k not in chosen
    ]
    if missing:
        raise ConfigurationError(f"--orders needs {', '.join(missing)} (or --preset online-retail)")
    return OrderLineColumns(**chosen)  # type: ignore[arg-type]


@app.command()
def produce(
    orders: Annotated[Path | None, typer.Option(help="Parquet or CSV of order lines to replay in time order.")] = None,
    preset: PresetOption = None,
    col_order_id: ColOrderId = None,
    col_sku: ColSku = None,
    col_quantity: ColQuantity = None,
    col_time: ColTime = None,
    col_price: ColPrice = None,
    col_location: ColLocation = None,
    location: LocationOption = None,
    currency: CurrencyOption = None,
    timezone: TimezoneOption = None,
    cancel_prefix: CancelPrefixOption = None,
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
    from streams.order_lines import replay_order_lines

    mapping = {
        "order_id": col_order_id, "sku": col_sku, "quantity": col_quantity, "time": col_time, "price": col_price,
        "location_column": col_location, "location": location, "currency": currency, "timezone": timezone,
        "cancel_prefix": cancel_prefix, "max_quantity": settings.max_quantity,
    }  # fmt: skip
    columns = _order_columns(preset, mapping)
    replay = replay_order_lines(orders, columns, nrows=limit)
    report = publish(replay.messages, settings, bootstrap)
    typer.echo(f"published {report.sent} order events from {orders}")
    for category, count in replay.summary.as_dict().items():
        typer.echo(f"  {category}: {count}")


@app.command("orders-table")
def orders_table(
    orders: Annotated[Path, typer.Option(help="Parquet or CSV of order lines.")],
    out: Annotated[Path, typer.Option(help="Long table to write (.parquet or .csv): id, date, quantity, price.")],
    preset: PresetOption = None,
    col_order_id: ColOrderId = None,
    col_sku: ColSku = None,
    col_quantity: ColQuantity = None,
    col_time: ColTime = None,
    col_price: ColPrice = None,
    col_location: ColLocation = None,
    location: LocationOption = None,
    currency: CurrencyOption = None,
    timezone: TimezoneOption = None,
    cancel_prefix: CancelPrefixOption = None,
    config: ConfigOption = None,
) -> None:
    """Order lines -> the daily long table that train / forecast / backtest read (your own order history)."""
    from streams.order_lines import daily_demand_from_order_lines, read_order_lines

    mapping = {
        "order_id": col_order_id, "sku": col_sku, "quantity": col_quantity, "time": col_time, "price": col_price,
        "location_column": col_location, "location": location, "currency": currency, "timezone": timezone,
        "cancel_prefix": cancel_prefix, "max_quantity": _settings(config).max_quantity,
    }  # fmt: skip
    daily = daily_demand_from_order_lines(read_order_lines(orders), _order_columns(preset, mapping))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        daily.to_parquet(out, index=False)
    elif out.suffix.lower() == ".csv":
        daily.to_csv(out, index=False)
    else:
        raise ConfigurationError(f"{out}: name the output *.parquet or *.csv")
    typer.echo(
        f"{out}: {daily['id'].nunique()} series, {len(daily)} rows, {daily['date'].min()}..{daily['date'].max()}"
    )


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


DataOption = Annotated[
    Path, typer.Option("--data", help="Long table (parquet/CSV: id, date, quantity, ...) or a worker-state export.")
]
DeviceOption = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu or cuda.")]
CalendarOption = Annotated[
    Path | None,
    typer.Option("--calendar", help="Table of event and SNAP days, past and future (date, event*, snap_*)."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of weights and sampled training windows.")]


@app.command()
def train(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Model folder to write (config.json + weights.pt).")],
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
    max_epochs: Annotated[int | None, typer.Option("--max-epochs", help="Cap on epochs (default 40).")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="lstm, or ensemble (LSTM + LightGBM + Croston); default: the backtest's pick."),
    ] = None,
    calendar: CalendarOption = None,
) -> None:
    """Train the default forecaster (LSTM + LightGBM + Croston, 2:2:1; LSTM early-stopped on the last 28 days)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from forecasting.commands import DEFAULT_MODEL, default_config, train_model
    from forecasting.ensemble import EnsemblePredictor
    from forecasting.lstm.estimator import LSTMPredictor
    from forecasting.lstm.training import EpochReport

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[figures]}"), console=console, disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def show(report: EpochReport) -> None:
            if not console.is_terminal:  # a log file gets one line per epoch instead of a bar
                typer.echo(str(report), err=True)
                return
            if report.phase not in tasks:
                label = "early stopping" if report.phase == "fit" else "refit on all days"
                tasks[report.phase] = bar.add_task(label, total=report.of, figures="")
            bar.update(tasks[report.phase], completed=report.epoch, figures=str(report).split(": ", 1)[1])

        model = train_model(data, out, config=default_config(seed, max_epochs), kind=kind or DEFAULT_MODEL,
                            device=device, progress=show, stage=lambda text: console.print(text),
                            calendar=calendar)  # fmt: skip
        for task in bar.tasks:  # early stopping ends before max_epochs: close the bar
            bar.update(task.id, total=task.completed)
    lstm = model.members["lstm"] if isinstance(model, EnsemblePredictor) else model
    facts = lstm.facts if isinstance(lstm, LSTMPredictor) else {}
    typer.echo(
        f"{out}: {model.version}, {facts['series']} series x {facts['days']} days, LSTM best epoch "
        f"{facts['best_epoch']}/{facts['epochs']}, validation nll {facts['validation_nll']:.4f}, "
        f"{facts['training_seconds']} s"
    )


@app.command()
def forecast(
    model: Annotated[Path, typer.Option("--model", help="Model folder written by `restock train`.")],
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Days after the data's last date.")] = 28,
    device: DeviceOption = "auto",
    calendar: CalendarOption = None,
) -> None:
    """Forecast every series of the data from the day after its last date: mean and M5 quantiles per day."""
    from forecasting.commands import forecast_frame, write_forecast
    from forecasting.ensemble import load_model
    from forecasting.long_table import read_long_table

    frame = forecast_frame(load_model(model, device=device), read_long_table(data, calendar), horizon)
    write_forecast(frame, out)
    methods = frame.drop_duplicates("id")["method"].value_counts().to_dict()
    typer.echo(f"{out}: {frame['id'].nunique()} series x {horizon} days; methods {methods}")


@app.command()
def backtest(
    data: DataOption,
    origins: Annotated[int, typer.Option("--origins", help="Rolling origins, the last ones of the data.")] = 3,
    horizon: Annotated[int, typer.Option("--horizon", help="Days forecast from each origin.")] = 28,
    out: Annotated[Path, typer.Option("--out", help="Folder for scores.csv, fans.png, summary.json.")] = Path(
        "var/backtest"
    ),
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated subset (default: all).")] = None,
    statsforecast: Annotated[
        bool, typer.Option("--statsforecast/--no-statsforecast", help="AutoETS & co. (needs restock[bench]).")
    ] = True,
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
    jobs: Annotated[int, typer.Option("--jobs", help="Processes for statsforecast.")] = 1,
    calendar: CalendarOption = None,
) -> None:
    """Rolling-origin backtest of every model; a table, then one JSON line (models -> wrmsse, wspl, ...)."""
    import json

    from forecasting.backtest_report import table
    from forecasting.commands import backtest_models, run_backtest_command

    chosen = tuple(m.strip() for m in models.split(",") if m.strip()) if models else ()
    specs = backtest_models(device=device, seed=seed, statsforecast=statsforecast, n_jobs=jobs, only=chosen)
    result, files, report = run_backtest_command(
        data,
        out,
        origins=origins,
        horizon=horizon,
        models=specs,
        progress=lambda m: typer.echo(m, err=True),
        calendar=calendar,
    )
    typer.echo(table(result))
    typer.echo(f"per-series scores: {files.scores_csv}; forecast fans ({report['plot_model']}): {files.fans_png}")
    typer.echo(json.dumps(report, separators=(",", ":")))


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


@bench_app.command("recovery")
def bench_recovery(
    events: Annotated[int, typer.Option(min=1, help="Events to publish (at least one per series).")] = 1_000_000,
    series: Annotated[int, typer.Option(min=1, help="Distinct sku|location series.")] = 100_000,
    days: Annotated[float, typer.Option(min=1, help="Days of event time the events span.")] = 14.0,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic.")] = 4,
    workdir: Annotated[Path, typer.Option(help="Folder for state and logs.")] = Path("var/bench"),
) -> None:
    """Time to restore a worker's state after kill -9 (local RocksDB) and from the changelog alone."""
    from streams.bench_recovery import run_recovery

    if events < series:
        raise typer.BadParameter(f"--events ({events}) must be at least --series ({series})")
    run_recovery(events, series, days, partitions, workdir)


@bench_app.command("faults")
def bench_faults(
    skus: Annotated[int, typer.Option(min=1, help="SKUs of the demo history.")] = 400,
    locations: Annotated[int, typer.Option(min=1, help="Locations per SKU.")] = 3,
    days: Annotated[int, typer.Option(min=14, help="Days of history.")] = 150,
    kills: Annotated[int, typer.Option(min=1, help="kill -9 cycles (every third with a rebalance).")] = 20,
    freeze_s: Annotated[float, typer.Option(min=0, help="Seconds the broker is frozen (SIGSTOP) mid-run.")] = 30.0,
    workdir: Annotated[Path, typer.Option(help="Folder for state and logs.")] = Path("var/bench"),
) -> None:
    """The batch engine under kills, rebalances and a frozen broker against a calm run: lost / extra / changed."""
    from streams.bench_faults import run_faults

    run_faults(skus, locations, days, kills, freeze_s, workdir)


state_app = typer.Typer(no_args_is_help=True, help="Read the worker's state offline.")
app.add_typer(state_app, name="state")


@state_app.command("export")
def state_export(
    out: Annotated[Path, typer.Option(help="Parquet file to write (the long table of `forecast --data`).")],
    app_id: Annotated[str | None, typer.Option(help="App id whose state to read (RESTOCK_APP_ID).")] = None,
    quiet_s: Annotated[float, typer.Option(help="The changelog has ended when nothing arrived this long.")] = 2.0,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Export the state (from its changelog topic; no worker needed) as a daily long table."""
    from streams.state_export import export_changelog

    settings = _settings(config, bootstrap_servers)
    if app_id:
        settings = settings.model_copy(update={"app_id": app_id})
    meta = export_changelog(settings, _bootstrap(settings), out, quiet_s)
    typer.echo(f"wrote {meta['rows']} rows of {meta['keys']} keys ({meta['first_date']} to {meta['last_date']}, "
               f"closed through {meta['closed_through']}) to {out}")  # fmt: skip


@bench_app.command("score")
def bench_score(
    series: Annotated[int, typer.Option(help="Synthetic series scored in one call.")] = 100_000,
    days: Annotated[int, typer.Option(help="Days of history per series.")] = 120,
    horizon: Annotated[int, typer.Option(help="Days forecast.")] = 28,
    device: DeviceOption = "auto",
    threads: Annotated[int, typer.Option(help="torch CPU threads (the target is 2 cores).")] = 2,
    repeats: Annotated[int, typer.Option(help="Timed runs after a warm-up; the best counts.")] = 3,
    model: Annotated[str, typer.Option(help="lstm, or ensemble (the default LSTM + LightGBM + Croston).")] = "lstm",
) -> None:
    """Scoring speed: batched forward passes over many series, then the M5 quantiles of every day."""
    import json

    from forecasting.scoring_bench import run_scoring_bench

    figures = run_scoring_bench(series, days, horizon, device, threads, repeats, model=model).as_dict()
    for name, value in figures.items():
        typer.echo(f"{name:<20}{value}")
    typer.echo(json.dumps(figures, separators=(",", ":")))


def _order_lines_case(orders: Path | None, preset: str | None) -> tuple[str, SeriesTable]:
    """The case name and daily long table of ``--orders`` (``--preset online-retail`` alone: the shared copy of
    UCI Online Retail), for ``restock simulate`` and ``restock tune``."""
    from forecasting.long_table import series_from_frame
    from streams import simulate_command as sim
    from streams.order_lines import daily_demand_from_order_lines, read_order_lines

    path = orders if orders is not None else sim.ONLINE_RETAIL_PATH
    if not path.is_file():
        hint = "--preset online-retail reads UCI Online Retail there" if orders is None else "--orders"
        raise ConfigurationError(f"{path}: no such order-line file ({hint}); pass --orders PATH, --data or "
                                 "--synthetic")  # fmt: skip
    columns = _order_columns(preset, {"max_quantity": _settings(None).max_quantity})
    table = series_from_frame(daily_demand_from_order_lines(read_order_lines(path), columns))
    return ("online_retail" if preset == "online-retail" else path.stem), table


SIMULATE_ORDERS_HELP = (
    "Order lines (parquet/CSV); --preset online-retail alone reads ../shared/data/online_retail/orders.parquet."
)
SIMULATE_TARGETS = "0.55,0.7,0.8,0.9,0.95,0.98,0.99"
SIMULATE_PENALTIES = "0.002,0.005,0.01,0.015,0.02,0.03,0.05,0.1,0.3"
SIMULATE_VALUE_PENALTIES = "0.01,0.015,0.02,0.03,0.05,0.1,0.2,0.5,1"


@app.command("simulate")
def simulate_policies(
    data: Annotated[
        Path | None, typer.Option("--data", help="Long table (parquet/CSV: id, date, quantity, price).")
    ] = None,
    orders: Annotated[Path | None, typer.Option("--orders", help=SIMULATE_ORDERS_HELP)] = None,
    preset: PresetOption = None,
    synthetic: Annotated[bool, typer.Option("--synthetic", help="The seeded generator's demand (as well).")] = False,
    days: Annotated[int, typer.Option("--days", help="Days simulated, the last ones; the rest is warm-up.")] = 180,
    max_series: Annotated[int | None, typer.Option("--max-series", help="Series kept (most days with sales).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of lead times and the generator.")] = 0,
    fixed_order_cost: Annotated[float, typer.Option("--fixed-order-cost", help="Cost per order placed.")] = 10.0,
    holding_rate: Annotated[float, typer.Option("--holding-rate", help="Holding cost per year, of unit value.")] = 0.25,
    stockout_penalty: Annotated[
        float, typer.Option("--stockout-penalty", help="Cost per unit short, as a multiple of its unit value.")
    ] = 1.0,
    targets: Annotated[str, typer.Option("--targets", help="Target CSLs, comma-separated.")] = SIMULATE_TARGETS,
    review_days: Annotated[str, typer.Option("--review-days", help="Review periods R of order-up-to.")] = "1,7,14",
    calibrate: Annotated[
        bool, typer.Option("--calibrate/--no-calibrate", help="Also run order-up-to with calibrated targets.")
    ] = True,
    exchange_penalties: Annotated[
        str,
        typer.Option(
            "--exchange-penalties", help="Exchange-curve penalties per unit short, x mean unit value; '' skips."
        ),
    ] = SIMULATE_PENALTIES,
    exchange_value_penalties: Annotated[
        str,
        typer.Option("--exchange-value-penalties", help="The same with each unit's penalty x its own unit value."),
    ] = SIMULATE_VALUE_PENALTIES,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Trained model folder (restock train --out) instead of the moving average."),
    ] = None,
    device: DeviceOption = "auto",
    exchange_orders: Annotated[
        str, typer.Option("--exchange-orders", help="Exchange-curve order budgets, x min/max's orders per day.")
    ] = "1,1.25,1.5,1.75,2",
    out: Annotated[Path, typer.Option("--out", help="Folder for tradeoff.png and summary.json.")] = Path(
        "var/simulate"
    ),
) -> None:
    """Order-up-to (plain and calibrated) and the exchange-curve policy vs min/max (7/21 days) vs a
    perfect-foresight oracle; a table, then one JSON line."""
    import json

    from forecasting.long_table import read_long_table
    from policies.errors import PolicyError
    from policies.simulation.compare import ComparisonPlan
    from streams import simulate_command as sim
    from streams.order_lines import OrderLinesError

    if data is not None and (orders is not None or preset is not None):
        raise ConfigurationError("pass --data or --orders (with --preset), not both")
    economics = sim.Economics(fixed_order_cost, holding_rate, stockout_penalty, seed=seed)
    try:
        levels = _numbers(targets, "--targets")
        plan = ComparisonPlan(
            targets=levels,
            review_days=tuple(int(r) for r in review_days.split(",") if r.strip()),
            calibrate_modes=(False, True) if calibrate else (False,),
            exchange_penalties=_numbers(exchange_penalties, "--exchange-penalties"),
            exchange_value_penalties=_numbers(exchange_value_penalties, "--exchange-value-penalties"),
            exchange_order_multiples=_numbers(exchange_orders, "--exchange-orders"),
        )
        cases: list[sim.SimulationCase] = []
        if data is not None:
            table = read_long_table(data)
            cases.append(sim.table_case(data.stem, table, days=days, max_series=max_series, economics=economics))
        elif orders is not None or preset is not None:
            name, table = _order_lines_case(orders, preset)
            cases.append(sim.table_case(name, table, days=days, max_series=max_series, economics=economics))
        if synthetic or not cases:
            cases.append(sim.synthetic_case(days=days, series=max_series, economics=economics))
        forecaster = None
        if model is not None:
            from forecasting.ensemble import load_model

            forecaster = load_model(model, device=device)
        tables, report = sim.run_simulate(cases, out, plan, economics, forecaster=forecaster,
                                          progress=lambda m: typer.echo(m, err=True))  # fmt: skip
    except (PolicyError, OrderLinesError) as exc:
        raise ConfigurationError(str(exc)) from exc
    for text in tables:
        typer.echo(text)
    typer.echo(f"trade-off plot: {report['files']['tradeoff_png']}; summary: {report['files']['summary_json']}")
    typer.echo(json.dumps(report, separators=(",", ":")))


def _numbers(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigurationError(f"{name}: expected comma-separated numbers, got {text!r}") from exc


@app.command("tune")
def tune_policies(
    data: Annotated[
        Path | None, typer.Option("--data", help="Long table (parquet/CSV: id, date, quantity, price, category).")
    ] = None,
    orders: Annotated[Path | None, typer.Option("--orders", help=SIMULATE_ORDERS_HELP)] = None,
    preset: PresetOption = None,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="The seeded generator's demand (the default).")
    ] = False,
    train_days: Annotated[int, typer.Option("--train-days", help="Days the searches simulate.")] = 120,
    test_days: Annotated[int, typer.Option("--test-days", help="Later days the choices are scored on.")] = 90,
    max_series: Annotated[int | None, typer.Option("--max-series", help="Series kept (most days with sales).")] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Cap on each category's average inventory value.")
    ] = None,
    generations: Annotated[int, typer.Option("--generations", help="GA generations after the first.")] = 8,
    population: Annotated[int, typer.Option("--population", help="GA population.")] = 12,
    evaluations: Annotated[
        int | None, typer.Option("--evaluations", help="GA budget of simulations (default population x generations).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the GA, lead times and the generator.")] = 0,
    service_levels: Annotated[
        str, typer.Option("--service-levels", help="Cycle service levels searched.")
    ] = "0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,0.975,0.99,0.995",
    review_days: Annotated[str, typer.Option("--review-days", help="Review periods R searched.")] = "1,3,7,14",
    multipliers: Annotated[
        str, typer.Option("--multipliers", help="Safety-stock multipliers searched; 1 switches them off.")
    ] = "0.5,0.75,1,1.25,1.5",
    price_band_count: Annotated[
        int, typer.Option("--price-bands", help="Without a category column: this many price bands as categories.")
    ] = 0,
    fixed_order_cost: Annotated[float, typer.Option("--fixed-order-cost", help="Cost per order placed.")] = 10.0,
    holding_rate: Annotated[float, typer.Option("--holding-rate", help="Holding cost per year, of unit value.")] = 0.25,
    stockout_penalty: Annotated[
        float, typer.Option("--stockout-penalty", help="Cost per unit short, as a multiple of its unit value.")
    ] = 1.0,
    out: Annotated[Path, typer.Option("--out", help="Folder for summary.json and convergence.png.")] = Path("var/tune"),
) -> None:
    """Per category: GA vs grid search of service level, review period and multiplier; a table, then one JSON line."""
    import json

    from forecasting.long_table import read_long_table
    from policies.errors import PolicyError
    from policies.tuning import GeneticSettings, SearchSpace
    from streams import simulate_command as sim
    from streams import tune_command as tune
    from streams.order_lines import OrderLinesError

    if sum((data is not None, orders is not None or preset is not None, synthetic)) > 1:
        raise ConfigurationError("pass one of --data, --orders (with --preset) and --synthetic")
    economics = sim.Economics(fixed_order_cost, holding_rate, stockout_penalty, seed=seed)
    periods = {"train_days": train_days, "test_days": test_days}
    try:
        space = SearchSpace(service_levels=_numbers(service_levels, "--service-levels"),
                            review_days=tuple(int(r) for r in _numbers(review_days, "--review-days")),
                            multipliers=_numbers(multipliers, "--multipliers"))  # fmt: skip
        settings = GeneticSettings(population=population, generations=generations, max_evaluations=evaluations,
                                   seed=seed)  # fmt: skip
        if data is not None:
            case = tune.table_tune_case(data.stem, read_long_table(data), **periods, max_series=max_series,
                                        economics=economics, bands=price_band_count)  # fmt: skip
        elif orders is not None or preset is not None:
            name, table = _order_lines_case(orders, preset)
            case = tune.table_tune_case(name, table, **periods, max_series=max_series, economics=economics,
                                        bands=price_band_count)  # fmt: skip
        else:
            case = tune.synthetic_tune_case(**periods, series=max_series, economics=economics,
                                            bands=price_band_count)  # fmt: skip
        text, report = tune.run_tune(case, out, **periods, space=space, settings=settings, budget=budget,
                                     economics=economics, progress=lambda m: typer.echo(m, err=True))  # fmt: skip
    except (PolicyError, OrderLinesError) as exc:
        raise ConfigurationError(str(exc)) from exc
    typer.echo(text)
    typer.echo(f"convergence plot: {report['files']['convergence_png']}; summary: {report['files']['summary_json']}")
    typer.echo(json.dumps(report, separators=(",", ":")))


def main() -> None:
    try:
        app()
    except (StreamsError, ForecastError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
