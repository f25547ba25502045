"""A README's examples found by parsing: ``>>>`` sessions and Python code blocks, each under its heading."""

from agents.generation.readme_blocks import code_blocks, headings, sessions

MARKDOWN = '''# shout

A library.

## Integer shouting

```pycon
>>> import loud
>>> loud.shout("a")
'A!'
```

```bash
# not a heading: a shell comment
pip install loud
```

## Parse a string

```python
import loud

assert loud.shout("hi") == "HI!"
```

~~~py
print(loud.shout("x"))
~~~
'''

RST = '''Loud
====

Quick start
-----------

Shouting::

    >>> import loud
    >>> loud.shout("b")
    'B!'

.. code-block:: python
   :linenos:

   import loud
   assert loud.whisper("HI") == "hi"

Whispering
~~~~~~~~~~

    >>> loud.whisper("A")
    'a'
'''


def test_markdown_headings_are_found_outside_code_only() -> None:
    titles = [t for _, t in headings(MARKDOWN.splitlines())]
    assert titles == ["shout", "Integer shouting", "Parse a string"]


def test_a_closing_fence_is_not_read_as_an_examples_output() -> None:
    (found,) = sessions(MARKDOWN)
    assert found.heading == "Integer shouting"
    assert [(e.source, e.want) for e in found.examples] == [("import loud\n", ""), ('loud.shout("a")\n', "'A!'\n")]


def test_python_code_blocks_keep_their_heading_and_other_languages_are_left_out() -> None:
    blocks = code_blocks(MARKDOWN)
    assert [(b.heading, b.code) for b in blocks] == [
        ("Parse a string", 'import loud\n\nassert loud.shout("hi") == "HI!"'),
        ("Parse a string", 'print(loud.shout("x"))')]


def test_restructuredtext_titles_literal_blocks_and_code_directives() -> None:
    assert [t for _, t in headings(RST.splitlines())] == ["Loud", "Quick start", "Whispering"]
    assert [(s.heading, len(s.examples)) for s in sessions(RST)] == [("Quick start", 2), ("Whispering", 1)]
    (block,) = code_blocks(RST)
    assert block.code == 'import loud\nassert loud.whisper("HI") == "hi"'


def test_an_example_that_is_no_doctest_leaves_out_its_section_only() -> None:
    text = ("Intro\n=====\n\n    >>> x = 1\n  2\n\nUsage\n=====\n\n>>> len('ab')\n2\n")
    (found,) = sessions(text)  # the output indented off its prompt under "Intro" costs "Usage" nothing
    assert found.heading == "Usage" and found.line == 10
    assert [(e.source, e.want) for e in found.examples] == [("len('ab')\n", "2\n")]


def test_an_unfenced_output_ruled_like_a_title_is_no_heading() -> None:
    text = "Tables\n======\n\n>>> print(one_column())\n------\n1.2345\n------\n>>> 2\n2\n"
    (found,) = sessions(text)  # "1.2345" over "------" is output, not a section of its own
    assert found.heading == "Tables" and found.examples[0].want == "------\n1.2345\n------\n"
    assert len(found.examples) == 2


def test_a_linked_heading_is_named_by_its_words_not_its_address() -> None:
    text = "## [Installation](https://example.org/install_guide)\n\nInstall.\n\n`Usage <https://x.org>`_\n" + "-" * 24 + "\n"
    assert [t for _, t in headings(text.splitlines())] == ["Installation", "Usage"]
