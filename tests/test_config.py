"""ConfigMap from literals, files and Jinja2 templates; mounted as files; checksums."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from kubegen import ConfigMap, KubegenError, Stack, Template, ValidationError


def test_literals_render_sorted() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(ConfigMap("settings", data={"b": "2", "a": "1"}, immutable=True))
    (body,) = [o.body for o in stack.objects() if o.kind == "ConfigMap"]
    assert list(body["data"]) == ["a", "b"]
    assert body["immutable"] is True


def test_files_and_templates(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("worker_processes 1;\n")
    (tmp_path / "app.yaml.j2").write_text("port: {{ port }}\nname: {{ name | upper }}\n")
    config = ConfigMap(
        "web",
        data={"LOG_LEVEL": "info"},
        files=[tmp_path / "nginx.conf"],
        templates=[Template(tmp_path / "app.yaml.j2", values={"port": 8080, "name": "api"})],
    )
    assert config.data == {
        "LOG_LEVEL": "info",
        "nginx.conf": "worker_processes 1;\n",
        "app.yaml": "port: 8080\nname: API\n",
    }


def test_template_key_override_and_include(tmp_path: Path) -> None:
    (tmp_path / "base.j2").write_text("base={{ x }}")
    (tmp_path / "main.j2").write_text("{% include 'base.j2' %}!")
    config = ConfigMap("c", templates=[Template(tmp_path / "main.j2", key="out.txt",
                                                values={"x": 1})])
    assert config.data == {"out.txt": "base=1!"}


def test_missing_variable_names_template_line_and_variable(tmp_path: Path) -> None:
    template = tmp_path / "app.yaml.j2"
    template.write_text("port: {{ port }}\nhost: {{ host }}\n")
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", templates=[Template(template, values={"port": 1})])
    text = str(info.value)
    assert str(template) in text
    assert "line 2" in text
    assert "undefined variable 'host'" in text
    assert "values={'host': ...}" in text
    assert "ConfigMap web" in text
    assert info.value.origin is not None and info.value.origin.file.endswith("test_config.py")


def test_missing_attribute_names_it(tmp_path: Path) -> None:
    template = tmp_path / "t.j2"
    template.write_text("{{ db.host }}")
    with pytest.raises(ValidationError, match="undefined variable 'host'"):
        ConfigMap("web", templates=[Template(template, values={"db": {}})])


def test_template_syntax_error(tmp_path: Path) -> None:
    template = tmp_path / "t.j2"
    template.write_text("ok\n{% if %}\n")
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", templates=[Template(template)])
    assert "line 2" in str(info.value) and str(template) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", files=[tmp_path / "nope.conf"])
    assert "does not exist" in str(info.value) and "stack file's folder" in str(info.value)


def test_key_from_two_sources(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("x")
    with pytest.raises(ValidationError, match="comes from two sources"):
        ConfigMap("web", data={"a.conf": "y"}, files=[tmp_path / "a.conf"])


def test_relative_paths_start_at_the_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack_dir = tmp_path / "stacks" / "shop"
    stack_dir.mkdir(parents=True)
    (stack_dir / "app.conf.j2").write_text("env={{ env }}\n")
    (stack_dir / "static.txt").write_text("hello\n")
    (stack_dir / "build.py").write_text(
        "from kubegen import ConfigMap, Template\n"
        "config = ConfigMap('c', files=['static.txt'],\n"
        "                   templates=[Template('app.conf.j2', values={'env': 'prod'})])\n"
    )
    monkeypatch.chdir(tmp_path)
    config = runpy.run_path(str(stack_dir / "build.py"))["config"]
    assert config.data == {"static.txt": "hello\n", "app.conf": "env=prod\n"}


def test_invalid_key_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", data={"a/b": "x"})
    assert "not a valid ConfigMap key" in str(info.value)


def test_checksum_changes_with_content_only() -> None:
    a = ConfigMap("a", data={"k": "v"})
    assert a.sha256() == ConfigMap("b", data={"k": "v"}).sha256()
    assert a.sha256() != ConfigMap("a", data={"k": "w"}).sha256()


def test_template_render_raises_a_located_error(tmp_path: Path) -> None:
    template = tmp_path / "app.conf.j2"
    template.write_text("port={{ port }}\nhost={{ host }}\n")
    tpl = Template(template, values={"port": 1})  # this line is the error's origin
    line = sys._getframe().f_lineno - 1
    with pytest.raises(ValidationError) as info:
        tpl.render()
    error = info.value
    assert isinstance(error, KubegenError)
    assert error.origin is not None and error.origin.file.endswith("test_config.py")
    assert error.origin.line == line
    assert (error.field, error.value) == ("values", ["port"])
    assert "line 2 uses the undefined variable 'host'" in error.message
    assert str(template) in error.message
    with pytest.raises(ValidationError) as in_map:
        ConfigMap("web", templates=[Template(template / "nope.j2"), tpl])
    assert in_map.value.field == "templates[0].path"
    with pytest.raises(ValidationError) as in_map:
        ConfigMap("web", templates=[tpl])
    assert (in_map.value.resource, in_map.value.field) == ("ConfigMap web", "templates[0].values")
    assert in_map.value.origin is not None and in_map.value.origin.line == line


def test_file_and_template_errors_name_their_field(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("x")
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", files=[tmp_path / "a.conf", tmp_path / "nope.conf"])
    assert info.value.field == "files[1]"
    bad = tmp_path / "bad.j2"
    bad.write_text("ok\n{% if %}\n")
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", templates=[Template(bad)])
    assert info.value.field == "templates[0].path"
    with pytest.raises(ValidationError) as info:
        ConfigMap("web", data={"a.conf": "y"}, files=[tmp_path / "a.conf"])
    assert (info.value.field, info.value.value) == ("files[0]", "a.conf")
