"""A partial screen update that renders only the lines that changed.

Textual's ``Compositor.render_partial_update`` crops to the *union* of the dirty regions and
then asks every widget that overlaps that union for its *whole* visible region: two changed
rows of a table and the detail pane under it had every widget of the screen (header,
containers, the table's forty lines, the panes, the footer) walk all its lines through the
styles cache, to keep only the dirty lines. On the Activity screen that was most of a
refresh's compositor time.

:class:`LeanCompositor` makes the same update — the same spans, the same strips on every
line it writes (``tests/ui/test_compositor.py`` holds both against each other on the live
screens) — from the dirty lines alone: the lines are grouped in bands of consecutive lines,
and each widget is asked only for its lines inside each band. It depends on Textual's
compositor internals (``cuts``, ``visible_widgets``, ``_regions_to_spans``), pinned with
Textual's version in pyproject.toml."""

from __future__ import annotations

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip


def bands(lines: list[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as runs of consecutive lines: [(first, end), ...], end exclusive."""
    out: list[tuple[int, int]] = []
    for y in lines:
        if out and out[-1][1] == y:
            out[-1] = (out[-1][0], y + 1)
        else:
            out.append((y, y + 1))
    return out


def _covered(chops: list[dict[int, Strip | None]], cuts: list[list[int]], lines: range,
             first_cut: int, last_cut: int) -> bool:
    """Every chop of ``lines`` between the two cuts is painted already."""
    for y in lines:
        line = chops[y]
        for cut in cuts[y]:
            if first_cut <= cut < last_cut and line.get(cut) is None:
                return False
    return True


class LeanCompositor(Compositor):
    def render_partial_update(self) -> ChopsUpdate | None:
        screen_region = self.size.region
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        spans = list(self._regions_to_spans(update_regions))
        height = screen_region.height
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        widgets = [(widget, region, region.intersection(clip)) for widget, (region, clip)
                   in self.visible_widgets.items()]
        lines = sorted({y for y, _, _ in spans if 0 <= y < height})
        for top, end in bands(lines):
            band = Region(0, top, screen_region.width, end - top)
            for widget, region, shown in widgets:
                part = shown.intersection(band)
                if not (part.width and part.height):
                    continue
                x0 = part.x
                first_cut, last_cut = part.column_span
                if _covered(chops, cuts, part.line_range, first_cut, last_cut):
                    continue        # what is in front covers it here: its strips would be dropped
                strips = widget.render_lines(Region(part.x - region.x, part.y - region.y, part.width, part.height))
                for y, strip in zip(part.line_range, strips):
                    line = chops[y]
                    final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                    get = line.get
                    # front to back, as Textual paints: the first strip for a cut wins
                    for cut, piece in zip(final_cuts, strip.divide([cut - x0 for cut in final_cuts[1:]])):
                        if get(cut) is None:
                            line[cut] = piece
        chop_ends = [cut_set[1:] for cut_set in cuts]
        return ChopsUpdate(chops, spans, chop_ends)
