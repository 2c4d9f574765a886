"""The footer leaves out whole keys from the end when the terminal is narrow (never a word cut
in the middle), keeping room for the ``…`` marker."""

from console.ui.widgets.footer import fitting


def test_everything_fits_without_marker():
    assert fitting([5, 5, 5], 15, 2) == 3


def test_whole_keys_dropped_from_the_end_with_room_for_the_marker():
    assert fitting([5, 5, 5], 14, 2) == 2      # 10 + marker 2 <= 14
    assert fitting([5, 5, 5], 11, 2) == 1      # 10 + 2 > 11
    assert fitting([5, 5, 5], 6, 2) == 0


def test_first_key_wider_than_the_room():
    assert fitting([30, 2], 10, 2) == 0
