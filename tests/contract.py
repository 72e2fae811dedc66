"""The JSON contract of `--json` answers, stated in the tests independently of the code."""

DESIGN_KEYS = {"chip", "memory", "tp", "pp", "batch", "replicas", "chips", "ep", "attention"}
# every answer says which assumption set produced it: the preset and every switch
ASSUMPTION_KEYS = {
    "preset",
    "kv_placement",
    "collective_bandwidth",
    "expert_parallel",
    "sliding_window",
    "embedding_rows",
    "weight_only_quant",
    "context_distribution",
    "native_dtype",
    "per_sequence_overlap",
}
METRIC_KEYS = {
    "tokens_per_s_per_user",
    "system_tokens_per_s",
    "step_time_s",
    "memory_time_s",
    "compute_time_s",
    "sync_time_s",
    "overhead_time_s",
    "memory_per_chip_bytes",
    "capex_usd",
    "power_w",
    "tco_usd_per_year",
    "cost_per_mtoken_usd",
    # the 80% interval of tokens/s per user (designer.calibration.intervals)
    "tokens_per_s_per_user_low",
    "tokens_per_s_per_user_high",
}
INTERVAL_KEYS = {
    "confidence",
    "tokens_per_s_per_user_low",
    "tokens_per_s_per_user_high",
    "step_time_low_s",
    "step_time_high_s",
    "domain",
    "points",
    "extrapolated",
    "widened",  # {"fast": n, "slow": m}: times each end was widened (added; a build widens one)
    "widened_by",  # {"fast": f, "slow": g}: the factor each end was widened by in all (added)
}
# added: an answer under an engine's fit (`generic-<engine>`) also carries how such intervals
# held within the engine (`intervals.engine_fit_check`)
ENGINE_INTERVAL_KEYS = INTERVAL_KEYS | {"check"}

FLEET_KEYS = {
    "class",
    "chip",
    "memory",
    "tp",
    "pp",
    "batch",
    "replicas",
    "servers",
    "chips",
    "users_served",
    "tokens_per_s_per_user_low",
    "tokens_per_s_per_user_high",
    "interval",
    # the loaded TTFT's 80% interval (round 19; null in a row without a TTFT)
    "ttft_low_s",
    "ttft_high_s",
    "ttft_p90_low_s",
    "ttft_p90_high_s",
    "ttft_interval",
}
TOTALS_KEYS = {
    "chips",
    "servers",
    "capex_usd",
    "power_w",
    "tco_usd_per_year",
    "cost_per_mtoken_usd",
}

# The bundled catalog models, and which of them are mixtures of experts.
MODEL_IDS = [
    "llama3.1-8b",
    "llama3.1-70b",
    "llama3.1-405b",
    "deepseek-v3",
    "qwen3-32b",
    "qwen3-235b-a22b",
    "gpt-oss-120b",
    "gpt-oss-20b",
    "mixtral-8x22b",
    "kimi-k2",
]
MOE_IDS = [
    "deepseek-v3",
    "qwen3-235b-a22b",
    "gpt-oss-120b",
    "gpt-oss-20b",
    "mixtral-8x22b",
    "kimi-k2",
]
