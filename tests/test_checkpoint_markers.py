"""The section markers, turned into checkpoints, on small made-up sources.

tests/test_checkpoints.py runs the real checkpoints of the application.
"""

from textwrap import dedent

import pytest

from workshop.checkpoints import (
    CheckpointError,
    checkpoint_file,
    checkpoint_source,
    is_marked,
    tidy,
)

SOURCE = dedent("""\
    def distance(a, b):
        # workshop: section 1 >>>
        count(a, b)
        # workshop: section 1 <<<
        # workshop: section 3 >>>
        with tracer.start_as_current_span("distance"):
            km = compute(a, b)
        # workshop: section 3 ===
        # km = compute(a, b)
        # workshop: section 3 <<<
        return km
""")


def test_the_start_of_a_section_keeps_the_earlier_sections_and_undoes_the_later_ones():
    assert checkpoint_source(SOURCE, 2) == dedent("""\
        def distance(a, b):
            count(a, b)
            km = compute(a, b)
            return km
    """)


def test_a_section_s_own_block_is_undone_at_its_start():
    assert checkpoint_source(SOURCE, 1) == dedent("""\
        def distance(a, b):
            km = compute(a, b)
            return km
    """)


def test_after_the_last_section_all_the_code_is_kept_and_the_markers_are_gone():
    assert checkpoint_source(SOURCE, 4) == dedent("""\
        def distance(a, b):
            count(a, b)
            with tracer.start_as_current_span("distance"):
                km = compute(a, b)
            return km
    """)


def test_before_lines_keep_their_own_indentation_and_a_lone_hash_is_an_empty_line():
    source = dedent("""\
        # workshop: section 0 >>>
        setup()
        # workshop: section 0 ===
        # def main():
        #     run()
        #
        # main()
        # workshop: section 0 <<<
    """)
    assert checkpoint_source(source, 0) == "def main():\n    run()\n\nmain()\n"
    assert checkpoint_source(source, 1) == "setup()\n"


def test_a_block_inside_another_counts_only_where_the_outer_one_is_kept():
    source = dedent("""\
        # workshop: section 0 >>>
        def setup():
            # workshop: section 2 >>>
            start_logging()
            # workshop: section 2 ===
            # print_to_the_console()
            # workshop: section 2 <<<
            exit_cleanly()
        # workshop: section 0 <<<
    """)
    assert checkpoint_source(source, 0) == ""
    assert (
        checkpoint_source(source, 1)
        == "def setup():\n    print_to_the_console()\n    exit_cleanly()\n"
    )
    assert checkpoint_source(source, 3) == "def setup():\n    start_logging()\n    exit_cleanly()\n"


def test_line_endings_are_kept():
    source = "# workshop: section 0 >>>\r\nnew()\r\n# workshop: section 0 ===\r\n# old()\r\n"
    source += "# workshop: section 0 <<<\r\nend()\r\n"
    assert checkpoint_source(source, 0) == "old()\r\nend()\r\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "x = 1\n# workshop: section 2 >>>\ny = 2\n",
            "app.py:2: the section 2 block is not closed",
        ),
        ("x = 1\n# workshop: section 2 <<<\n", "app.py:2: '<<<' without a '>>>'"),
        ("# workshop: section 2 ===\n", "app.py:1: '===' without a '>>>'"),
        ("# workshop: section 99 >>>\n", "app.py:1: section 99 is not one of 0 to 9"),
        ("# workshop: section two >>>\n", "app.py:1: a marker is written"),
        (
            "# workshop: section 2 >>>\n# workshop: section 2 >>>\n",
            "app.py:2: a section 2 block inside the section 2 block of line 1",
        ),
        (
            "# workshop: section 1 >>>\n# workshop: section 1 ===\n# workshop: section 2 >>>\n",
            "app.py:3: a block opens among the lines before section 1",
        ),
        (
            "# workshop: section 1 >>>\nx = 1\n# workshop: section 2 <<<\n",
            "app.py:3: this '<<<' does not match the '>>>' of line 1",
        ),
        (
            "# workshop: section 1 >>>\n# workshop: section 1 ===\n# workshop: section 1 ===\n",
            "app.py:3: a second '==='",
        ),
    ],
)
def test_a_broken_marker_is_an_error_at_its_file_and_line(source, message):
    with pytest.raises(CheckpointError, match=f"^{message}"):
        checkpoint_source(source, 0, "app.py")


@pytest.mark.parametrize(
    "before_line",
    [
        "  x = 1",  # not commented out
        "  #x = 1",  # no space after the hash
        "# x = 1",  # commented out, but not at the markers' indentation
        "",  # an empty line is written as a lone '#'
    ],
)
def test_before_lines_must_be_commented_out_at_the_markers_indentation(before_line):
    source = "\n".join([
        "if ready:",
        "  # workshop: section 3 >>>",
        "  x = 2",
        "  # workshop: section 3 ===",
        before_line,
        "  # workshop: section 3 <<<",
    ])  # fmt: skip
    # Checked at every section, also where the solution is kept.
    for section in (0, 8):
        with pytest.raises(CheckpointError, match="^app.py:5: lines before a section"):
            checkpoint_source(source, section, "app.py")


def test_imports_that_are_no_longer_used_are_removed_and_the_rest_sorted():
    source = dedent("""\
        import logging

        from opentelemetry import trace

        from common.http import add_health_endpoint

        # workshop: section 3 >>>
        tracer = trace.get_tracer(__name__)
        # workshop: section 3 <<<
        logger = logging.getLogger(__name__)
        add_health_endpoint
    """)
    assert checkpoint_file(source, 3, "app/module.py") == dedent("""\
        import logging

        from common.http import add_health_endpoint

        logger = logging.getLogger(__name__)
        add_health_endpoint
    """)
    assert "from opentelemetry import trace" in checkpoint_file(source, 4, "app/module.py")


def test_unused_imports_go_from_a_packages_init_too():
    assert tidy("import os\nimport sys\n\nsys.exit()\n", "app/__init__.py") == (
        "import sys\n\nsys.exit()\n"
    )


def test_the_result_is_formatted_as_ruff_formats():
    assert tidy("x = {'a':1}\n\n\n\n\ny = 2\n", "app/module.py") == 'x = {"a": 1}\n\n\ny = 2\n'


@pytest.mark.parametrize(
    ("path", "marked"),
    [
        ("common/telemetry.py", True),
        ("backend/gateway/gateway/__init__.py", True),
        ("README.md", False),  # only Python files carry markers
        ("workshop/checkpoints.py", False),  # it describes the markers
        ("tests/test_checkpoint_markers.py", False),  # so does this file
    ],
)
def test_which_files_carry_markers(path, marked):
    assert is_marked(path, SOURCE) is marked
    assert not is_marked(path, "x = 1\n")
