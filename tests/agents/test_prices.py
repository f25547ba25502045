"""The price table: input and output apart, the old one-number form, messages that name the model."""

import pytest

from agents.prices import DEFAULT_PRICES, ModelPrice, parse_prices, prices_json, with_defaults
from app import system_config
from engine.errors import ConfigError


def test_output_tokens_cost_more_than_input_tokens() -> None:
    mini = DEFAULT_PRICES["gpt-4o-mini"]
    assert mini.cost_usd(1_000_000, 0) == pytest.approx(0.15)
    assert mini.cost_usd(0, 1_000_000) == pytest.approx(0.60)
    assert mini.cost_usd(1200, 300) == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1e6)


def test_a_bare_number_is_the_same_price_both_ways() -> None:
    assert parse_prices('{"local": 0}') == {"local": ModelPrice(0.0, 0.0)}
    assert parse_prices('{"m": 2}')["m"] == ModelPrice(2.0, 2.0)


def test_round_trip_through_json() -> None:
    table = {"a": ModelPrice(1.0, 4.0), "b": ModelPrice(0.5, 0.5)}
    assert parse_prices(prices_json(table)) == table


@pytest.mark.parametrize("text, words", [
    ('{"m": {"input": 1}}', "m: expected exactly the keys input and output"),
    ('{"m": {"input": -1, "output": 1}}', "m.input: expected a number"),
    ('{"m": "cheap"}', "m.price: expected a number"),
    ('[1, 2]', "expected an object"),
    ('{"m": ', "expected JSON like"),
])
def test_bad_tables_name_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        parse_prices(text)


def test_stored_table_over_defaults_and_broken_table_falls_back() -> None:
    merged = with_defaults('{"mine": {"input": 1, "output": 2}}')
    assert merged["mine"] == ModelPrice(1.0, 2.0) and "gpt-4o-mini" in merged
    assert with_defaults("{not json") == DEFAULT_PRICES


async def test_migration_moves_the_untouched_default_to_input_and_output(conn) -> None:
    stored = parse_prices(await system_config.get(conn, "llm_prices"))
    assert stored == DEFAULT_PRICES


async def test_system_config_validates_prices_with_the_field_named(conn) -> None:
    with pytest.raises(ConfigError, match=r"system_config.llm_prices.*m\.output"):
        await system_config.set_value(conn, "llm_prices", '{"m": {"input": 1, "output": -2}}')
    await system_config.set_value(conn, "llm_prices", '{"m": {"input": 1, "output": 3}}')
    assert parse_prices(await system_config.get(conn, "llm_prices")) == {"m": ModelPrice(1.0, 3.0)}
