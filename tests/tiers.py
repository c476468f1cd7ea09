"""The two tiers of the suite (tests/conftest.py calls `mark_tiers` at collection).

A test is end-to-end (marker `e2e`) when it uses a fixture in E2E_FIXTURES, lives in a module of
E2E_MODULES, is named in E2E_TESTS, or is marked `slow` (every slow test is end-to-end); a test
may also carry @pytest.mark.e2e itself. Everything else is the fast tier, which runs on fakes
(tests/fakes.py) and must stay under two minutes on two cores: the guard in tests/conftest.py
fails a fast test that starts a llama.cpp model, so a new test that needs one says so here.

The names are kept here rather than as decorators in the test files so that the split is one
list to read; a name here that the run no longer collects is reported as a warning.
"""

from __future__ import annotations

import pytest

# Real parts a fixture brings: the trainer's environment and real training, sshd.
E2E_FIXTURES = frozenset({"trainer_python", "mascot_db", "mascot_training", "sshd", "_sshd_server"})

# Modules whose every test runs a real model, server or tool.
E2E_MODULES = frozenset({
    "tests/engine/test_chat.py",                 # SmolLM2 answering (a module-scoped engine)
    "tests/engine/test_serve.py",
    "tests/engine/test_embedder.py",             # the e5 model itself: built, loaded, against reference vectors
    "tests/engine/test_compare_lab.py",          # the session's trained adapter, SmolLM2, e5
    "tests/engine/test_finetune_loop.py",
    "tests/engine/test_remote_llama_server.py",  # llama-server over sshd
    "tests/engine/test_remote_lora.py",
    "tests/engine/test_worker.py",               # the llama.cpp worker process
    "tests/engine/test_offline_native.py",       # strace
    "tests/engine/test_ocr.py",                  # the OCR models
    "tests/engine/test_ocr_index.py",
    "tests/desktop/test_screenshot.py",          # screenshots
    "tests/desktop/test_page_screenshots.py",
    "tests/desktop/test_window_width.py",        # every page laid out and grabbed, twice
    "tests/desktop/test_side_by_side_window.py",
})

# Single tests that start a real model (llama.cpp, or the e5 embedder on volume), found by
# the fast tier's guard (tests/conftest.py) and by --durations.
E2E_TESTS = frozenset({
    "tests/desktop/test_app.py::test_main_window_opens_with_every_page",
    "tests/desktop/test_app.py::test_after_show_loads_the_model_in_the_background",
    "tests/desktop/test_app.py::test_closing_during_indexing_and_an_answer_stops_both_and_indexing_resumes",
    "tests/desktop/test_app.py::test_whole_flow_through_the_window",
    "tests/desktop/test_app.py::test_model_crash_mid_answer_keeps_the_window_and_the_partial_answer",
    "tests/desktop/test_chat_page.py::test_rag_answer_cites_previews_regenerates_and_resends",
    "tests/desktop/test_chat_page.py::test_stop_keeps_the_partial_answer",
    "tests/desktop/test_compare_page.py::test_loads_runs_and_shows_a_comparison",
    "tests/desktop/test_finetune_page.py::test_draft_from_a_library_adds_pairs_written_by_the_local_model",
    "tests/desktop/test_models_page.py::test_lists_the_builtin_model_and_loads_it_in_the_background",
    "tests/desktop/test_models_page.py::test_add_a_bad_file_then_an_adapter_with_its_base",
    "tests/desktop/test_models_page.py::test_each_model_says_where_it_runs_its_offload_and_last_speed",
    "tests/engine/test_answers.py::test_rag_answer_starts_with_the_quote",
    "tests/engine/test_answers.py::test_japanese_question_goes_to_a_japanese_model",
    "tests/engine/test_answers.py::test_japanese_question_to_an_english_model_with_nothing_better_says_so",
    "tests/engine/test_answers.py::test_qwen_is_the_default_model",      # joins Qwen from its parts
    "tests/engine/test_answers_eval.py::test_eval_answers_on_a_folder_with_a_questions_file_reports_per_kind",
    "tests/engine/test_answers_eval.py::test_eval_answers_reports_per_model_and_reuses_its_index",
    "tests/engine/test_bench.py::test_bench_search_json",         # e5 over a synthetic corpus
    "tests/engine/test_bench.py::test_bench_index_hostile_json",
    "tests/engine/test_bench.py::test_bench_index_json",
    "tests/engine/test_bench.py::test_bench_index_table",
    "tests/engine/test_bench_mcp.py::test_bench_serve_json",
    "tests/engine/test_cli.py::test_index_search_libraries_remove",     # e5 loaded by each command
    "tests/engine/test_cli_finetune.py::test_run_list_status_logs_compare",
    "tests/engine/test_lab_prep.py::test_a_schema_10_database_gains_the_columns_and_says_not_recorded",  # e5 indexing
    "tests/engine/test_lab_prep.py::test_indexing_time_is_recorded_and_shown_as_preparation_cost",
    "tests/engine/test_serve_limits.py::test_a_request_trickling_in_is_cut",   # waits out two timeouts
    "tests/desktop/test_library_page.py::test_pause_then_resume_finishes_the_run",   # e5 over many files
    "tests/engine/test_embed_device.py::test_cuda_listed_without_a_gpu_runs_the_cpu_graph",
    "tests/engine/test_embed_device.py::test_a_folder_without_the_graph_falls_back_to_exact",
    "tests/engine/test_offline.py::test_onnxruntime_telemetry_is_switched_off_where_a_session_is_made",
    "tests/engine/test_embedder.py::test_rebuild_is_deterministic_and_model_id_tracks_content",
    "tests/engine/test_finetune_draft.py::test_draft_from_a_library",
    "tests/engine/test_index.py::test_killed_run_resumes_without_duplicates",   # a CLI child killed mid-run
    "tests/engine/test_parsers.py::test_pdf_without_text_layer",                # the OCR worker
    "tests/engine/test_remote_endpoint.py::test_endpoint_answers_with_rag_citations_and_a_stored_conversation",
    "tests/engine/test_remote_endpoint.py::test_an_endpoint_model_is_an_arm_of_a_comparison",
    "tests/engine/test_remote_endpoint.py::test_a_dropped_stream_is_kept_as_stopped_and_the_next_answer_works",
    "tests/engine/test_repetition.py::test_real_model_loop_is_stopped_with_a_reason",
    "tests/engine/test_repetition.py::test_cli_and_api_say_why",
    "tests/engine/test_template_budget.py::test_a_hostile_template_fails_before_the_model_is_held",
    "tests/engine/test_to_gguf.py::test_llama_cpp_applies_the_converted_adapter",
})


def _module(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _name(item) -> str:
    return item.nodeid.split("[", 1)[0]


def is_e2e(item) -> bool:
    return bool(item.get_closest_marker("e2e") or item.get_closest_marker("slow")
                or E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
                or _module(item) in E2E_MODULES or _name(item) in E2E_TESTS)


def mark_tiers(config, items) -> None:
    modules = {_module(item) for item in items}
    names = {_name(item) for item in items}
    for item in items:
        if is_e2e(item) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)
    stale = sorted(n for n in E2E_TESTS if n.split("::", 1)[0] in modules and n not in names)
    if stale:
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"tests/tiers.py names tests that no longer exist: {', '.join(stale)}"), stacklevel=2)
