"""Issue 28: what core accepts, the window can show; a refused scenario changes nothing."""

import dataclasses

import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from core import fields, lever_module
from core.errors import InputError
from widgets import PANELS
from widgets.controls import SliderSpin

INT32_MAX = 2**31 - 1


def int_fields(lever):
    params = lever_module(lever).Params
    for f in dataclasses.fields(params):
        if fields._scalar(str(f.type))[0] == "int":
            yield f.name, fields.spec(params, f.name)


@pytest.mark.parametrize("cls", PANELS, ids=[c.lever for c in PANELS])
def test_every_accepted_integer_loads_into_the_panel_or_is_refused_cleanly(cls, make_panel):
    panel = make_panel(cls)
    panel.load_sample()
    base = panel.scenario()["params"]
    for name, spec in int_fields(cls.lever):
        for value in {spec.maximum or 2**53, INT32_MAX + 1, 2**53}:
            before = panel.params
            try:
                panel.load_scenario_dict({**base, name: int(value)})
            except InputError:
                assert panel.params == before, name  # refused: nothing changed
                continue
            assert getattr(panel.params, name) == value  # accepted: loaded, no overflow
            for field, widget in panel.bindings():  # and every control shows it, unclamped
                if field == name and isinstance(widget, SliderSpin | QSpinBox | QDoubleSpinBox):
                    assert widget.value() == value, (name, widget.value())
            panel.load_scenario_dict(base)
