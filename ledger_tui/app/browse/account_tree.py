"""The account tree: legal_entity > namespace > name > currency > account_id > monthly bucket.

Every level is fetched through the engine when first expanded, a page at a time ('more…'
fetches the next), so a ledger of any size opens instantly. The tree tells its screen what
the operator picked through messages and can walk itself open to a given account and bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Literal

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, WorkerState

from ...domain.model import TREE_DEPTH, Address
from ...domain.paging import Page, PageToken
from ...engine import Engine
from ..failures import with_timeout
from ..messages import CallFailed

TREE_PAGE_SIZE = 200
GROUP_PREFIX = "tree-"
#: Letters typed within this many seconds of each other make one type-ahead prefix.
TYPE_AHEAD_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What a tree node stands for: a level of the account path, a bucket, or 'more…'."""

    kind: Literal["level", "bucket", "more"]
    path: tuple[str, ...]
    token: PageToken | None = None
    bucket: str | None = None


class AccountTree(Tree[NodeInfo]):
    """The ledger's accounts, loaded lazily level by level; enter picks an account or a month."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH
    BINDINGS = [Binding("slash", "app.find_account", "Find account")]

    class AccountChosen(Message):
        """The operator picked an account (its entries in the current date range are wanted)."""

        def __init__(self, address: Address) -> None:
            super().__init__()
            self.address = address

    class BucketChosen(Message):
        """The operator picked one month ``bucket`` of an account."""

        def __init__(self, address: Address, bucket: str) -> None:
            super().__init__()
            self.address = address
            self.bucket = bucket

    class TreeLoaded(Message):
        """The top level arrived; ``empty`` when the ledger has no accounts at all."""

        def __init__(self, empty: bool) -> None:
            super().__init__()
            self.empty = empty

    class ChildrenLoaded(Message, bubble=False):
        """One page of a node's children arrived (the tree's own worker result)."""

        def __init__(self, node: TreeNode[NodeInfo], page: Page[str]) -> None:
            super().__init__()
            self.node = node
            self.page = page

    class BucketsLoaded(Message, bubble=False):
        """An account's monthly buckets arrived (the tree's own worker result)."""

        def __init__(self, node: TreeNode[NodeInfo], buckets: list[str]) -> None:
            super().__init__()
            self.node = node
            self.buckets = buckets

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__("ledger", data=NodeInfo("level", ()), id=id)
        self.show_root = False
        self.guide_depth = 2
        self._engine = engine
        self._loaded: set[int] = set()  # ids of nodes whose children were asked for
        self._reveal: tuple[str, ...] | None = None  # account path + bucket to walk open to
        self.page_size = TREE_PAGE_SIZE
        self._typed = ""  # the type-ahead prefix
        self._typed_at = 0.0

    # -- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Forget every loaded level and fetch the top one again."""
        self.clear()
        self._loaded.clear()
        self.loading = True
        self._load_node(self.root)

    def _load_node(self, node: TreeNode[NodeInfo], token: PageToken | None = None) -> None:
        info = node.data
        if info is None:
            return
        self._loaded.add(node.id)
        group = f"{GROUP_PREFIX}{node.id}"
        if len(info.path) == TREE_DEPTH:
            self.run_worker(self._fetch_buckets(node), group=group, exclusive=True, exit_on_error=False)
        else:
            self.run_worker(
                self._fetch_children(node, token), group=group, exclusive=True, exit_on_error=False
            )

    async def _fetch_children(self, node: TreeNode[NodeInfo], token: PageToken | None) -> None:
        """One page of a node's children."""
        assert node.data is not None
        page = await with_timeout(self._engine.children(node.data.path, self.page_size, token))
        self.post_message(self.ChildrenLoaded(node, page))

    async def _fetch_buckets(self, node: TreeNode[NodeInfo]) -> None:
        """An account's buckets."""
        assert node.data is not None
        buckets = await with_timeout(self._engine.buckets(Address(*node.data.path)))
        self.post_message(self.BucketsLoaded(node, buckets))

    def on_account_tree_children_loaded(self, message: ChildrenLoaded) -> None:
        """Add a page of children (and a 'more…' node when the level has more)."""
        node, page = message.node, message.page
        assert node.data is not None
        path = node.data.path
        for child in page.items:
            label = Text(child)
            if len(path) == TREE_DEPTH - 1:
                label.stylize("bold")
            node.add(label, data=NodeInfo("level", (*path, child)), allow_expand=True)
        if page.next_token is not None:
            node.add_leaf(Text("more…", style="italic"), data=NodeInfo("more", path, page.next_token))
        if node.is_root:
            self.loading = False
            self.post_message(self.TreeLoaded(not node.children))
        self._continue_reveal(node)

    def on_account_tree_buckets_loaded(self, message: BucketsLoaded) -> None:
        """Add one leaf per month bucket."""
        node = message.node
        assert node.data is not None
        for bucket in message.buckets:
            node.add_leaf(bucket, data=NodeInfo("bucket", node.data.path, bucket=bucket))
        if not message.buckets:
            node.add_leaf(Text("no entries", style="italic"), data=None)
        self._continue_reveal(node)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed level can be expanded again and stops the spinner; the screen shows the notice."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._loaded.discard(int(event.worker.group.removeprefix(GROUP_PREFIX)))
            self.loading = False
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    # -- the operator's choices --------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeInfo]) -> None:
        """Load a node's children the first time it opens."""
        event.stop()
        node = event.node
        if node.id not in self._loaded and node.data is not None and node.data.kind == "level":
            self._load_node(node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeInfo]) -> None:
        """An account or a bucket is announced to the screen; 'more…' fetches the next page."""
        event.stop()
        info = event.node.data
        if info is None:
            return
        if info.kind == "more":
            parent = event.node.parent
            event.node.remove()
            if parent is not None:
                self._load_node(parent, info.token)
        elif info.kind == "bucket" and info.bucket is not None:
            self.post_message(self.BucketChosen(Address(*info.path), info.bucket))
        elif len(info.path) == TREE_DEPTH:
            self.post_message(self.AccountChosen(Address(*info.path)))

    # -- revealing a path --------------------------------------------------------------------

    def reveal(self, address: Address, bucket: str | None = None) -> None:
        """Open the tree down to ``address`` (and its ``bucket``), loading levels as needed."""
        self._reveal = (*address.as_tuple(), *([bucket] if bucket else []))
        if not self.loading:  # while the top level loads, its arrival continues the walk
            self._continue_reveal(self.root)

    def _continue_reveal(self, node: TreeNode[NodeInfo]) -> None:
        """Walk the tree toward ``_reveal`` one loaded level at a time."""
        target = self._reveal
        if target is None or node.data is None:
            return
        depth = len(node.data.path)
        if node.data.path != target[:depth] or node.id not in self._loaded:
            return
        if node.data.path == target:  # an account (no bucket asked for) is itself the target
            self._reveal = None
            self.call_after_refresh(self.move_cursor, node)
            return
        if not node.is_root and not node.is_expanded:
            node.expand()
            return  # children arrive later; this is called again then
        for child in node.children:
            info = child.data
            if info is None:
                continue
            if info.kind == "bucket" and info.bucket == target[-1]:
                self._reveal = None
                # A node added this cycle has no line number until the tree is laid out again.
                self.call_after_refresh(self.move_cursor, child)
                return
            if info.kind == "level" and info.path == target[: len(info.path)]:
                if child.id in self._loaded:
                    child.expand()
                    self._continue_reveal(child)
                else:
                    child.expand()  # triggers the load, whose handler continues the walk
                return
        last = node.children[-1] if node.children else None
        if last is not None and last.data is not None and last.data.kind == "more":
            token = last.data.token
            last.remove()  # not on the pages loaded so far: fetch the next one and look again
            self._load_node(node, token)
            return
        self._reveal = None  # not in the ledger: leave the tree as it is

    # -- type-ahead ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """Type-ahead: letters move the cursor to the next shown node whose name starts with them.

        A key the screen binds (n, p, f, ...) keeps its meaning when it would start a prefix, but
        continues one typed within TYPE_AHEAD_SECONDS; '/' finds any account, loaded or not.
        """
        char = event.character
        now = monotonic()
        active = bool(self._typed) and now - self._typed_at < TYPE_AHEAD_SECONDS
        if event.key == "backspace" and active:
            self._typed = self._typed[:-1]
            self._typed_at = now
            event.stop()
            event.prevent_default()
            return
        if char is None or len(char) != 1 or not char.isprintable() or char in " /":
            self._typed = ""
            return
        if not active and event.key in self.screen.active_bindings:
            self._typed = ""
            return
        prefix = (self._typed if active else "") + char
        self._typed, self._typed_at = prefix, now
        event.stop()
        event.prevent_default()
        found = self._next_match(prefix, include_current=len(prefix) > 1)
        if found is not None:
            self.move_cursor(found)
        else:
            self.app.bell()

    def _next_match(self, prefix: str, *, include_current: bool) -> TreeNode[NodeInfo] | None:
        """The first shown node from the cursor on (wrapping) whose label starts with ``prefix``."""
        wanted = prefix.casefold()
        count = self.last_line + 1
        if count <= 0:
            return None
        start = max(self.cursor_line, 0) + (0 if include_current else 1)
        for step in range(count):
            node = self.get_node_at_line((start + step) % count)
            info = None if node is None else node.data
            if (
                node is not None
                and info is not None
                and info.kind != "more"
                and (str(node.label).casefold().startswith(wanted))
            ):
                return node
        return None
