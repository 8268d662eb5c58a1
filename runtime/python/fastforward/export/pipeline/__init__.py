"""Export pipelines: a ``Pipeline`` is a DAG of named stages, a ``PipelineRegistry`` maps a
``(target, format)`` pair (case-insensitive) to a factory of pipelines, and a
``PipelineOrchestrator`` runs the pipeline an ``ExportRequest`` asks for.

A stage is ``stage(inputs, sample_inputs, context) -> value``: ``inputs`` is the tuple of
the values of the stages it depends on (in the order they were named), ``sample_inputs`` the
request's ``[(args, kwargs), ...]`` and ``context`` the ``PipelineContext`` of the run (the
request, its options, and ``eval_results`` a stage may add to). Stages run in dependency
order; each value is kept under the stage's name in ``ExportArtifacts.stage_outputs``.
``build_default_registry()`` has ``("qnn", "onnx")`` and ``("qnn", "onnx_qdq")``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ["Pipeline", "PipelineContext", "PipelineOrchestrator", "PipelineRegistry", "Stage",
           "build_default_registry"]

StageFn = Callable[[Tuple[Any, ...], List[Tuple[Any, Dict[str, Any]]], "PipelineContext"], Any]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One node of a pipeline: ``fn`` gets the values of ``inputs`` (stage names)."""

    name: str
    fn: StageFn
    inputs: Tuple[str, ...] = ()


@dataclasses.dataclass
class PipelineContext:
    """What every stage of one run sees besides its inputs."""

    request: Any
    pipeline_name: str
    eval_results: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def options(self) -> Any:
        return self.request.options


class Pipeline:
    """A named DAG of stages; ``run`` executes it and returns ``(stage outputs, eval results)``."""

    def __init__(self, name: str, stages: Sequence[Stage] = ()) -> None:
        self.name = name
        self.stages: Dict[str, Stage] = {}
        for stage in stages:
            self.add_stage(stage.name, stage.fn, stage.inputs)

    def add_stage(self, name: str, fn: StageFn, inputs: Sequence[str] = ()) -> "Pipeline":
        """Add stage ``name`` reading the stages ``inputs`` (which must exist already, so a
        pipeline is acyclic by construction); returns the pipeline."""
        if not isinstance(name, str) or not name:
            raise ValueError("pipeline %r: a stage needs a non-empty name, got %r" % (self.name, name))
        if name in self.stages:
            raise ValueError("pipeline %r: a stage named %r exists already" % (self.name, name))
        if not callable(fn):
            raise TypeError("pipeline %r: stage %r is not callable" % (self.name, name))
        missing = [i for i in inputs if i not in self.stages]
        if missing:
            raise ValueError("pipeline %r: stage %r reads %s, which no earlier stage is named (stages: %s)"
                             % (self.name, name, ", ".join(map(repr, missing)), ", ".join(self.stages) or "none"))
        self.stages[name] = Stage(name, fn, tuple(inputs))
        return self

    def order(self) -> List[str]:
        """The stages in the order they run (insertion order, which respects dependencies)."""
        return list(self.stages)

    def run(self, request: Any, context: Optional[PipelineContext] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        context = context or PipelineContext(request, self.name)
        outputs: Dict[str, Any] = {}
        for name in self.order():
            stage = self.stages[name]
            outputs[name] = stage.fn(tuple(outputs[i] for i in stage.inputs), request.sample_inputs, context)
        return outputs, context.eval_results

    def __repr__(self) -> str:
        return "Pipeline(%r, stages=[%s])" % (self.name, ", ".join(self.stages))


PipelineFactory = Callable[[], Pipeline]


def _key(target: str, format: str) -> Tuple[str, str]:
    return str(target).lower(), str(format).lower()


class PipelineRegistry:
    """``(target, format)`` -> a factory returning a fresh ``Pipeline``; keys are compared
    case-insensitively."""

    def __init__(self) -> None:
        self._factories: Dict[Tuple[str, str], PipelineFactory] = {}
        self._refused: Dict[Tuple[str, str], str] = {}

    def register(self, target: str, format: str, factory: PipelineFactory, *, replace: bool = False) -> None:
        """Register ``factory`` for ``(target, format)``; an existing entry is a ``ValueError``
        unless ``replace``."""
        key = _key(target, format)
        if key in self._factories and not replace:
            raise ValueError("export: a pipeline for target=%r, format=%r is registered already "
                             "(pass replace=True to replace it)" % key)
        if not callable(factory):
            raise TypeError("export: the pipeline factory for %r must be callable" % (key,))
        self._factories[key] = factory
        self._refused.pop(key, None)

    def refuse(self, target: str, format: str, reason: str) -> None:
        """Name a pair this registry knows of but cannot export, with the reason given."""
        self._refused[_key(target, format)] = reason

    def supported(self) -> List[Tuple[str, str]]:
        return sorted(self._factories)

    def __contains__(self, pair: Tuple[str, str]) -> bool:
        return _key(*pair) in self._factories

    def factory(self, target: str, format: str) -> PipelineFactory:
        key = _key(target, format)
        if key in self._factories:
            return self._factories[key]
        pairs = ", ".join("(%r, %r)" % pair for pair in self.supported()) or "none"
        if key in self._refused:
            raise ValueError("export: target=%r, format=%r is not supported: %s (supported: %s)"
                             % (target, format, self._refused[key], pairs))
        raise ValueError("export: no pipeline for target=%r, format=%r (supported: %s)" % (target, format, pairs))

    def create(self, target: str, format: str) -> Pipeline:
        pipeline = self.factory(target, format)()
        if not isinstance(pipeline, Pipeline):
            raise TypeError("export: the factory for %r returned %s, not a Pipeline"
                            % (_key(target, format), type(pipeline).__name__))
        return pipeline


class PipelineOrchestrator:
    """Runs requests: the request's own ``pipeline_factory`` when it has one, else the
    registry's pipeline for its ``(target, format)``."""

    def __init__(self, registry: Optional[PipelineRegistry] = None) -> None:
        self.registry = registry if registry is not None else build_default_registry()

    def pipeline_for(self, request: Any) -> Pipeline:
        if request.pipeline_factory is not None:
            pipeline = request.pipeline_factory()
            if not isinstance(pipeline, Pipeline):
                raise TypeError("export: pipeline_factory returned %s, not a Pipeline" % type(pipeline).__name__)
            return pipeline
        return self.registry.create(request.target, request.format)

    def run(self, request: Any) -> Any:
        from fastforward.export import ExportArtifacts

        pipeline = self.pipeline_for(request)
        outputs, evals = pipeline.run(request)
        return ExportArtifacts(pipeline_name=pipeline.name, stage_outputs=outputs, eval_results=evals)


def build_default_registry() -> PipelineRegistry:
    """A registry with ffq's pipelines: ``("qnn", "onnx")`` (float ONNX plus a QNN encodings
    file) and ``("qnn", "onnx_qdq")`` (ONNX with QuantizeLinear/DequantizeLinear nodes)."""
    from fastforward.export import _stages

    registry = PipelineRegistry()
    registry.register("qnn", "onnx", _stages.qnn_onnx_pipeline)
    registry.register("qnn", "onnx_qdq", _stages.qnn_onnx_qdq_pipeline)
    registry.refuse("gguf", "llama_cpp", "ffq does not write GGUF files (FastForward's llama.cpp "
                    "exporter has no counterpart here)")
    return registry
