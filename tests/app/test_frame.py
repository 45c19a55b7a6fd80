"""The app frame around every page: `pages/_common.ensure_frame` relies on a private flag of
Streamlit (no supported way exists, see its docstring). These tests break loudly when
Streamlit renames or stops using it, instead of deep links silently losing the sidebar."""

from __future__ import annotations

import inspect

from streamlit.commands import navigation
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner


def test_streamlit_still_has_the_pages_directory_flag() -> None:
    assert "uses_pages_directory" in vars(pages_manager.PagesManager)
    # set from the pages/ folder when the first manager is made ...
    assert "PagesManager.uses_pages_directory = Path(" in inspect.getsource(
        pages_manager.PagesManager.__init__
    )
    # ... cleared by st.navigation, the same thing ensure_frame does ...
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation.navigation)
    # ... and read by the script runner to choose the old multipage behaviour
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner)


def test_ensure_frame_reads_that_flag() -> None:
    from pages import _common

    source = inspect.getsource(_common.ensure_frame)
    assert "PagesManager.uses_pages_directory" in source
