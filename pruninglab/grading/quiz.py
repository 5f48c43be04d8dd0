"""Interview-practice quiz on the seed documents' questions.

Every multiple-choice question offers the seed document's own (wrong or incomplete) claim as a
distractor, quoted in Chinese with an English translation, next to the correct answer. Short
answer questions take a number and accept a small tolerance. Correct options sit at varying
positions and are not systematically the longest (``tests/test_interview_quiz_seed.py``);
:meth:`QuizResult.summary` reports a score without revealing the answer key.

* :data:`QUESTIONS` -- the question data (:class:`Question`)
* :func:`grade_quiz` -- pure: ``{question id: answer}`` -> :class:`QuizResult`
* :func:`quiz_ui` -- ipywidgets front end (one radio group / text box per question and a
  "Check answers" button); tests drive it by setting ``.value`` and calling ``button.click()``
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Question", "QUESTIONS", "QuizResult", "grade_quiz", "quiz_ui", "seed_answers",
           "render_question"]


@dataclass(frozen=True)
class Question:
    id: str
    seed_id: str                 # catalog item the question comes from
    prompt: str
    options: tuple = ()          # multiple choice; empty for a numeric short answer
    correct: object = None       # option index, or the number for short answers
    seed_answer: object = None   # the option index the seed document would pick (its claim)
    seed_claim: str = ""         # the seed's words (Chinese) and translation
    explanation: str = ""
    tolerance: float = 0.0       # relative tolerance for numeric answers

    @property
    def kind(self) -> str:
        return "choice" if self.options else "number"


QUESTIONS: tuple[Question, ...] = (
    Question(
        "train_speed", "S0-Q1",
        "Does pruning (setting small weights to zero) make TRAINING faster?",
       ("No: dense kernels still multiply the zeros, and prune-retrain cycles add training.",
         "Yes: with half of the weights left, each training step takes about half the time.",
         "Yes, but only if the learning rate is raised to make up for the pruned weights."),
        0, 1,
        "S0-Q1 / S4-Q1: 「提高模型的训练速度」, 「加速模型训练」 (pruning speeds up training)",
        "Han et al. (2015) train, prune, then RETRAIN (iteratively for the highest rates): more "
        "training, not less. A masked weight still occupies a dense tensor, so a dense GEMM costs "
        "the same; speed-ups need structured pruning or sparse kernels at inference."),
    Question(
        "definition", "S3-Q1",
        "What is pruning?",
       ("Terminating useless or low-contribution computations early to speed the training up.",
         "Removing or zeroing weights or structures of a trained network, then fine-tuning.",
         "Lowering the learning rate of unimportant layers so that they stop changing."),
        1, 0,
        "S3-Q1: 「通过提前终止部分无意义或贡献较小的计算，以加速训练过程」 (early termination of "
        "computations to accelerate training)",
        "That describes skipping computation at run time (early exit / conditional "
        "computation), not pruning. Pruning removes "
        "parameters by an importance criterion (magnitude: Han et al. 2015; filter L1 norm: Li et "
        "al. 2017; Taylor: Molchanov et al. 2017)."),
    Question(
        "weight_pruning", "S2-Q2",
        "What does weight (unstructured) pruning do to a weight tensor?",
       ("It lowers the values of some parameters (a 'slimming' of their magnitudes).",
         "It quantizes or sparsifies the weights; both count as weight pruning.",
         "It sets single weights to exactly zero with a mask; the shape is unchanged."),
        2, 0,
        "S2-Q2: 「降低网络中某些参数的数值，相当于“瘦身”」 (lowers some parameters' values); "
        "S0-Q2: 「通过对神经网络的权重进行量化或稀疏化」 (by quantizing or sparsifying)",
        "Shrinking values is weight decay / norm clipping (the seed's l2_norm_pruning, S2-C2, "
        "does exactly that and zeroes nothing). Quantization reduces bits per weight and is a "
        "separate technique (Jacob et al. 2018); pruning removes weights."),
    Question(
        "structured_definition", "S4-Q2",
        "What does structured pruning remove in a CNN, in the usual sense (Li et al. 2017)?",
       ("Whole filters or channels, so the remaining tensors are smaller dense tensors.",
         "Whole layers ('完整层') or parts of layers, so that the network becomes shallower.",
         "A random subset of individual weights, chosen independently per entry."),
        0, 1,
        "S4-Q2: 「通过识别并移除网络中的完整层或部分层」 (removing complete layers)",
        "Filter/channel pruning (Li et al. 2017) drops filters and the matching input channels of "
        "the next layer; the layer stays. Removing whole layers changes depth and is rarely what "
        "'structured pruning' means. A random elementwise mask (S3-C1) is unstructured."),
    Question(
        "s3c1_random_mask", "S3-C1",
        "The seed's structure_pruning multiplies W by np.random.choice([0, 1], size=W.shape, "
        "p=[rate, 1-rate]). What is it?",
       ("Structured pruning that keeps the most important neurons of the layer.",
         "Random unstructured pruning: about a fraction `rate` zeroed, no shape shrinks.",
         "Magnitude pruning that zeroes exactly a fraction `rate` of the smallest weights."),
        1, 0,
        "S3-C1 title: 「基于结构剪枝的算法」 (an algorithm based on structured pruning)",
        "Nothing is removed, so memory and MACs are unchanged in a dense format; the zero count "
        "varies from call to call; random choice ignores magnitude, so accuracy drops much more "
        "than magnitude pruning at the same sparsity."),
    Question(
        "s2c3_inverted", "S2-C3",
        "kernel * tf.cast(tf.random.uniform(shape) < pruning_rate, tf.float32) with "
        "pruning_rate = 0.3: what fraction of weights is zeroed (in expectation)?",
       ("30 %: entries below the rate are the ones that get pruned.",
         "None: the mask is applied to the bias vector only, never to the kernel.",
         "70 %: the comparison marks entries to KEEP, so only 30 % survive."),
        2, 0,
        "S2-C3 解析: 「如果剪枝率小于0.5，则将对应的权重和偏置设置为0」 (if the pruning rate is "
        "below 0.5 the weights and biases are set to 0)",
        "The mask is 1 where rand < 0.3, i.e. for ~30 % of the entries, and multiplying keeps "
        "those: ~70 % are zeroed. The 解析 text describes neither behaviour."),
    Question(
        "s3c2_quant", "S3-C2",
        "low_bit_quantization returns np.sign(w) * (np.abs(w) / 2**(precision-1)). With "
        "precision = 4, what do you get?",
       ("The float values divided by 8: nothing is rounded, no memory is saved.",
         "4-bit integer codes (16 levels) that take a quarter of the memory.",
         "8-bit integer codes with a zero point, ready for integer-only inference."),
        0, 1,
        "S3-C2 解析: 「将权重和偏置转换为低比特整数表示」 (converts weights and biases to low-bit "
        "integers)",
        "Quantization maps w to integer codes q = round(w/S) clipped to the b-bit range, with "
        "S = max|w|/(2^(b-1)-1) for symmetric quantization (Jacob et al. 2018); storage then "
        "takes b bits per weight. The seed also leaves the biases untouched, despite its 解析."),
    Question(
        "s2c1_delete", "S2-C1",
        "l1_norm_pruning returns np.delete(weights, np.where(np.abs(weights) < t)[0]). On a "
        "(64, 128) weight matrix, what comes back?",
       ("The same matrix with the small weights set to exactly zero, its shape unchanged.",
         "A 1-D array: without axis np.delete flattens and removes the wrong entries.",
         "A (64, 127) matrix with one column of small weights removed."),
        1, 0,
        "S2-C1 解析: 「删除这些权重并返回剪枝后的权重矩阵」 (deletes these weights and returns the "
        "pruned weight MATRIX)",
        "Deleting entries destroys the layout: the next layer can no longer multiply it. Pruning "
        "zeroes entries (np.where(|w| >= t, w, 0)); only structured pruning removes whole rows "
        "or columns, consistently in both layers. Also L1-norm pruning normally scores FILTERS "
        "by their L1 norm (Li et al. 2017), not single weights."),
    Question(
        "s0c2_threshold", "S0-C2",
        "weight_pruning sets pruning_threshold = pruning_threshold * np.max(np.abs(W)) INSIDE "
        "the loop over layers. Which threshold does layer 3 use?",
       ("t · max|W3|: each layer gets a threshold relative to its own largest weight.",
         "t alone: the multiplication by max|W| is discarded after the first layer.",
         "t · max|W1| · max|W2| · max|W3|: the overwritten variable compounds."),
        2, 0,
        "S0-C2 comment: 「设置剪枝阈值」 (set the pruning threshold), presented as per-layer",
        "Reassigning the argument makes every later layer's threshold depend on all earlier "
        "layers' maxima (it shrinks or explodes). Use a separate local variable per layer, or a "
        "per-layer threshold as in Han et al. 2015 (quality parameter x the layer's std)."),
    Question(
        "hw_aware", "S1-Q1",
        "What makes pruning 'hardware-aware'?",
       ("Putting the target hardware's cost and accelerated patterns into the decision.",
         "Deleting unimportant neurons by analysing the weights and the activations.",
         "Pruning only the layers that run on the GPU while keeping all the CPU layers dense."),
        0, 1,
        "S1-Q1: 「通过分析网络的权重和激活值，识别并删除那些对网络性能影响不大的神经元」 (analyse "
        "weights/activations and delete neurons with little effect)",
        "The seed describes ordinary pruning. Hardware-aware methods prune in patterns the "
        "hardware accelerates (2:4 sparsity, Mishra et al. 2021) or use measured latency / "
        "energy (NetAdapt; energy-aware pruning with Horowitz 2014 energy numbers)."),
    Question(
        "csr_bigger", "S4-Q1",
        "A 4x8 int8 layer at 50 % unstructured sparsity is stored in CSR with 16-bit column "
        "indices and 16-bit row pointers. How many bytes (dense int8 would take 32)?",
        correct=58, seed_answer=16, tolerance=0.0,
        seed_claim="S4-Q1: 「剪枝可以显著降低模型的存储空间需求」 (pruning significantly reduces "
                   "storage) -- the naive answer is half of 32 bytes = 16",
        explanation="16 values x 8 bit + 16 column indices x 16 bit + 5 row pointers x 16 bit = "
                    "464 bits = 58 bytes, MORE than the 32-byte dense layer. With int8 values and "
                    "16-bit indices CSR only wins below about 1/3 density (sparsity > 2/3)."),
    Question(
        "sym_scale", "S3-Q2",
        "Symmetric 8-bit quantization of a tensor with max|w| = 0.254: what is the scale S "
        "(so that w ≈ S·q)?",
        correct=0.002, seed_answer=0.254 / 128, tolerance=1e-3,
        seed_claim="S3-C2 divides by 2^(p-1) = 128 (and never rounds)",
        explanation="S = max|w| / (2^(b-1) - 1) = 0.254 / 127 = 0.002; codes lie in [-127, 127] "
                    "so that +max and -max are both representable (Jacob et al. 2018 use the "
                    "affine variant S = (r_max - r_min)/(q_max - q_min))."),
    Question(
        "agp_half", "S4-E2",
        "Gradual pruning from 0 % to 80 % with the Zhu & Gupta (2017) cubic schedule: what "
        "sparsity (as a fraction) is reached halfway through the schedule?",
        correct=0.7, seed_answer=0.4, tolerance=1e-6,
        seed_claim="S4-E2 describes 'dynamic pruning' without any schedule; a linear ramp "
                   "would give 0.4",
        explanation="s = s_f + (s_i - s_f)(1 - 1/2)^3 = 0.8 - 0.8/8 = 0.7: the schedule prunes "
                    "quickly while there is redundancy and slowly near the target."),
)


@dataclass
class QuizResult:
    score: int
    max_score: int
    feedback: list = field(default_factory=list)   # (question id, correct?, text)

    def summary(self) -> str:
        """Score and which questions failed, without any expected value or explanation (safe to
        show in a saved notebook output)."""
        failed = [qid for qid, ok, _ in self.feedback if not ok]
        return f"quiz: {self.score}/{self.max_score}" + (f"; not correct: {', '.join(failed)}" if failed else "")

    def __str__(self):
        lines = [f"quiz: {self.score}/{self.max_score}"]
        for qid, ok, text in self.feedback:
            lines.append(f"  [{'ok  ' if ok else 'FAIL'}] {qid}: {text}")
        return "\n".join(lines)

    __repr__ = __str__


def _by_id():
    return {q.id: q for q in QUESTIONS}


def grade_quiz(answers: dict, questions=QUESTIONS) -> QuizResult:
    """Grade ``{question id: answer}``; an answer is an option index (multiple choice) or a
    number (short answer). Unanswered questions score 0. Raises ``TypeError`` if ``answers`` is
    not a dict and ``ValueError`` for unknown question ids."""
    if not isinstance(answers, dict):
        raise TypeError(f"answers must be a dict {{question id: answer}}, got {type(answers).__name__}")
    known = {q.id for q in questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValueError(f"answers names unknown question ids {unknown}; known: {sorted(known)}")
    score, feedback = 0, []
    for q in questions:
        a = answers.get(q.id)
        if a is None:
            feedback.append((q.id, False, "not answered. " + q.explanation))
            continue
        if q.kind == "choice":
            ok = isinstance(a, int) and not isinstance(a, bool) and a == q.correct
            picked_seed = a == q.seed_answer
            text = ("correct. " if ok else
                    ("that is the seed document's claim, and it is wrong. " if picked_seed
                     else "not this one. ")) + q.explanation
        else:
            try:
                v = float(a)
                ok = math.isfinite(v) and math.isclose(v, float(q.correct), rel_tol=q.tolerance,
                                                       abs_tol=1e-12)
            except (TypeError, ValueError):
                ok = False
            text = ("correct. " if ok else f"expected {q.correct}. ") + q.explanation
        score += int(ok)
        feedback.append((q.id, ok, text))
    return QuizResult(score, len(questions), feedback)


def seed_answers(questions=QUESTIONS) -> dict:
    """The answers the seed documents would give (useful to show that they score 0)."""
    return {q.id: q.seed_answer for q in questions}


def render_question(q: Question) -> str:
    """Plain-text rendering (deterministic, for validated notebook cells)."""
    lines = [f"[{q.id}] (seed {q.seed_id}) {q.prompt}"]
    if q.options:
        lines += [f"   {i}. {o}" for i, o in enumerate(q.options)]
    else:
        lines.append("   (numeric answer)")
    return "\n".join(lines)


def quiz_ui(questions=QUESTIONS):
    """An ipywidgets quiz. Returns a ``VBox`` with attributes ``inputs`` (question id ->
    widget), ``button`` and ``output``; after a click ``ui.result`` holds the QuizResult."""
    import ipywidgets as w
    inputs, rows = {}, []
    for q in questions:
        label = w.HTML(f"<b>{q.id}</b> <small>(seed {q.seed_id})</small>: {q.prompt}")
        if q.options:
            widget = w.RadioButtons(options=[(o, i) for i, o in enumerate(q.options)], value=None,
                                    layout=w.Layout(width="auto"))
        else:
            widget = w.Text(value="", placeholder="a number", layout=w.Layout(width="200px"))
        inputs[q.id] = widget
        rows += [label, widget]
    button = w.Button(description="Check answers", button_style="primary")
    output = w.Output()
    box = w.VBox(rows + [button, output])
    box.inputs, box.button, box.output, box.result = inputs, button, output, None

    def _answers():
        out = {}
        for qid, widget in inputs.items():
            v = widget.value
            if v is None or v == "":
                continue
            if isinstance(widget, w.Text):
                try:
                    v = float(v)
                except ValueError:
                    v = v  # graded as wrong
            out[qid] = v
        return out

    def _on_click(_):
        box.result = grade_quiz(_answers(), questions)
        output.clear_output()
        with output:
            print(box.result)

    button.on_click(_on_click)
    return box
