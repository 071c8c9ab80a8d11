"""The app's state: Starlette's State, with its values also found on the normal lookup path."""

from __future__ import annotations

import pytest
from starlette.datastructures import State

from keystead.web.fastlane import Keystead


def test_the_app_state_behaves_as_starlettes() -> None:
    app = Keystead()
    assert isinstance(app.state, State)
    app.state.provider = "p"
    app.state.provider = "q"  # replaced, in both places
    assert app.state.provider == "q" and app.state._state == {"provider": "q"}
    assert "provider" in vars(app.state)  # no detour through __getattr__
    del app.state.provider
    with pytest.raises(AttributeError):
        _ = app.state.provider
    assert app.state._state == {}
