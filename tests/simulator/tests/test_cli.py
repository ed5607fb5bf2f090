"""The clore-sim command: options from flags, environment and config file; banner; clean exit on signals."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from clore_sim.config import DEFAULT_BALANCES, load_config


def test_defaults() -> None:
    config = load_config(["--api-key", "k"], environ={})
    assert (config.host, config.port, config.servers, config.seed) == ("127.0.0.1", 8199, 40, 7)
    assert (config.request_interval, config.create_interval, config.rate_tolerance) == (1.0, 5.0, 0.02)
    assert (config.spot_lower_window, config.port_range) == (600.0, (20000, 29999))
    assert config.admin_token is None and config.all_accounts() == {"k": DEFAULT_BALANCES}


def test_a_key_is_made_up_when_none_is_given() -> None:
    config = load_config([], environ={})
    assert len(config.api_keys) == 1 and config.api_keys[0].startswith("sim-")


def test_flags_win_over_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "sim.json"
    config_file.write_text(json.dumps({"seed": 1, "servers": 10, "request-interval": 3, "accounts": {"f": {}},
                                       "port_range": "30000-30010"}))
    environ = {"CLORE_SIM_CONFIG": str(config_file), "CLORE_SIM_SERVERS": "20", "CLORE_SIM_API_KEYS": "e1,e2",
               "CLORE_SIM_LISTING_LAG": "2.5"}
    config = load_config(["--servers", "30", "--account", "a=bitcoin:2,USD-Blockchain:3"], environ=environ)
    assert config.seed == 1 and config.servers == 30 and config.request_interval == 3.0
    assert config.listing_lag == 2.5 and config.port_range == (30000, 30010)
    accounts = config.all_accounts()
    assert set(accounts) == {"f", "e1", "e2", "a"}
    assert accounts["a"]["bitcoin"] == 2.0 and accounts["a"]["USD-Blockchain"] == 3.0
    assert accounts["a"]["CLORE-Blockchain"] == DEFAULT_BALANCES["CLORE-Blockchain"]


def test_spot_auction_options() -> None:
    defaults = load_config(["--api-key", "k"], environ={})
    assert (defaults.spot_low_bid, defaults.spot_outbid_grace, defaults.on_demand_preempts_spot) == ("queue", 0.0, False)
    assert defaults.market_churn == 0.0
    config = load_config(["--spot-low-bid", "refuse", "--spot-outbid-grace", "30", "--on-demand-preempts-spot",
                          "--market-churn", "6"], environ={})
    assert (config.spot_low_bid, config.spot_outbid_grace, config.on_demand_preempts_spot) == ("refuse", 30.0, True)
    assert config.market_churn == 6.0
    environ = {"CLORE_SIM_ON_DEMAND_PREEMPTS_SPOT": "false", "CLORE_SIM_SPOT_LOW_BID": "refuse"}
    from_env = load_config([], environ=environ)
    assert from_env.on_demand_preempts_spot is False and from_env.spot_low_bid == "refuse"
    assert load_config([], environ={"CLORE_SIM_ON_DEMAND_PREEMPTS_SPOT": "true"}).on_demand_preempts_spot is True
    with pytest.raises(SystemExit):
        load_config(["--spot-low-bid", "sometimes"], environ={})
    with pytest.raises(SystemExit):
        load_config([], environ={"CLORE_SIM_SPOT_LOW_BID": "sometimes"})
    with pytest.raises(SystemExit):
        load_config(["--market-churn", "-1"], environ={})


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        load_config(["--port-range", "9-1"], environ={})
    with pytest.raises(SystemExit):
        load_config(["--account", "k=doge:1"], environ={})
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps({"no_such_option": 1}))
    with pytest.raises(SystemExit):
        load_config(["--config", str(bad_file)], environ={})


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_command_prints_banner_serves_and_exits_cleanly(tmp_path: Path, signum: int) -> None:
    state = tmp_path / "state"
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "clore_sim", "--port", "0", "--state-dir", str(state), "--api-key", "key-one",
         "--api-key", "key-two", "--ready-file", str(ready), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = json.loads(ready.read_text())["url"]
        assert requests.get(f"{url}/wallets", headers={"auth": "key-two"}, timeout=10).json()["code"] == 0
    finally:
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"clore-sim serving {url}" in out
    assert "key-one, key-two" in out
    assert (state / "state.json").exists()
    assert "Traceback" not in err


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "clore_sim", "--port", str(port), "--state-dir",
                                 str(tmp_path / "s"), "--api-key", "k"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
