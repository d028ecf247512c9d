"""Bad-input cases and the exception type PyTorch raises for each.

Each case is ``(name, call, expected)``: ``call(L)`` runs the bad call against a library ``L``
(``retrograd``, or ``torch`` in the parity test) and must raise ``expected``. The calls use only
the public torch-shaped API, so the same list checks both libraries.
"""

R, I, T, V = RuntimeError, IndexError, TypeError, ValueError


def _f(L):
    return L.nn.functional


def _ints(L):
    return L.tensor([5, 7, 9])


def _backward_twice(L):
    x = L.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _modified_saved(L):
    x = L.ones(3, requires_grad=True)
    a = x * 2
    y = a.sin()
    a.mul_(2)
    y.sum().backward()


def _set_grad(value):
    def call(L):
        x = L.ones(3, requires_grad=True)
        x.grad = value(L)

    return call


def _setitem(index):
    def call(L):
        t = L.zeros(3)
        t[index(L)] = 1.0

    return call


def _load_missing(L):
    m = L.nn.Linear(2, 2)
    m.load_state_dict({"weight": L.zeros(2, 2)})


def _load_wrong_shape(L):
    m = L.nn.Linear(2, 2)
    m.load_state_dict({"weight": L.zeros(3, 2), "bias": L.zeros(2)})


def _optim(name, **kw):
    def call(L):
        getattr(L.optim, name)([L.nn.Parameter(L.zeros(2))], **kw)

    return call


CASES = [
    # broadcasting
    ("add_broadcast", lambda L: L.ones(2, 3) + L.ones(4), R),
    ("sub_broadcast", lambda L: L.ones(2, 3) - L.ones(2, 4), R),
    ("mul_broadcast", lambda L: L.ones(2, 3) * L.ones(3, 2), R),
    ("div_broadcast", lambda L: L.ones(2, 3) / L.ones(4), R),
    ("pow_broadcast", lambda L: L.ones(2, 3) ** L.ones(4), R),
    ("eq_broadcast", lambda L: L.ones(2, 3) == L.ones(4), R),
    ("lt_broadcast", lambda L: L.ones(2, 3) < L.ones(4), R),
    ("maximum_broadcast", lambda L: L.maximum(L.ones(2, 3), L.ones(4)), R),
    ("where_broadcast", lambda L: L.where(L.ones(2, 3) > 0, L.ones(4), L.ones(3)), R),
    ("lerp_broadcast", lambda L: L.lerp(L.ones(2, 3), L.ones(4), 0.5), R),
    ("add_inplace_grows", lambda L: L.ones(3).add_(L.ones(2, 3)), R),
    ("mul_inplace_broadcast", lambda L: L.ones(2, 3).mul_(L.ones(4)), R),
    ("add_broadcast_grad", lambda L: L.ones(2, 3, requires_grad=True) + L.ones(4), R),
    ("mse_loss_broadcast", lambda L: _f(L).mse_loss(L.ones(2, 3), L.ones(4)), R),
    ("logical_and_broadcast", lambda L: L.logical_and(L.ones(2, 3) > 0, L.ones(4) > 0), R),
    ("bitwise_and_broadcast", lambda L: L.ones(2, 3, dtype=L.int64) & L.ones(4, dtype=L.int64), R),
    ("isclose_broadcast", lambda L: L.isclose(L.ones(2, 3), L.ones(4)), R),
    ("broadcast_tensors", lambda L: L.broadcast_tensors(L.ones(2, 3), L.ones(4)), R),
    ("broadcast_shapes", lambda L: L.broadcast_shapes((2, 3), (4,)), R),
    ("cosine_similarity_broadcast", lambda L: _f(L).cosine_similarity(L.ones(3), L.ones(4), dim=0), R),
    # matrix products
    ("matmul_shapes", lambda L: L.ones(2, 3) @ L.ones(4, 5), R),
    ("matmul_0d", lambda L: L.matmul(L.tensor(1.0), L.ones(3)), R),
    ("matmul_batched_shapes", lambda L: L.ones(2, 2, 3) @ L.ones(3, 4, 5), R),
    ("mm_1d", lambda L: L.mm(L.ones(3), L.ones(3)), R),
    ("mm_shapes", lambda L: L.mm(L.ones(2, 3), L.ones(2, 3)), R),
    ("bmm_batch", lambda L: L.bmm(L.ones(2, 2, 3), L.ones(3, 3, 4)), R),
    ("bmm_2d", lambda L: L.bmm(L.ones(2, 3), L.ones(3, 4)), R),
    ("mv_shapes", lambda L: L.mv(L.ones(2, 3), L.ones(4)), R),
    ("dot_sizes", lambda L: L.dot(L.ones(3), L.ones(4)), R),
    ("dot_2d", lambda L: L.dot(L.ones(2, 2), L.ones(2, 2)), R),
    ("outer_2d", lambda L: L.outer(L.ones(2, 2), L.ones(2)), R),
    ("addmm_shapes", lambda L: L.addmm(L.ones(2, 4), L.ones(2, 3), L.ones(4, 4)), R),
    ("linear_in_features", lambda L: L.nn.Linear(3, 4)(L.ones(2, 5)), R),
    ("functional_linear_shapes", lambda L: _f(L).linear(L.ones(2, 5), L.ones(4, 3)), R),
    # mixed dtypes in products
    ("matmul_f32_f64", lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64), R),
    ("matmul_f32_i64", lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.int64), R),
    ("mm_f32_f64", lambda L: L.mm(L.ones(2, 3), L.ones(3, 2, dtype=L.float64)), R),
    ("bmm_f32_f64", lambda L: L.bmm(L.ones(1, 2, 3), L.ones(1, 3, 2, dtype=L.float64)), R),
    ("mv_f32_f64", lambda L: L.mv(L.ones(2, 3), L.ones(3, dtype=L.float64)), R),
    ("dot_f32_f64", lambda L: L.dot(L.ones(3), L.ones(3, dtype=L.float64)), R),
    ("matmul_1d_f32_f64", lambda L: L.matmul(L.ones(3), L.ones(3, dtype=L.float64)), R),
    ("matmul_batched_f32_f64", lambda L: L.ones(2, 2, 3) @ L.ones(3, 2, dtype=L.float64), R),
    ("addmm_f32_f64", lambda L: L.addmm(L.ones(2, 2), L.ones(2, 3), L.ones(3, 2, dtype=L.float64)), R),
    ("linear_f32_f64", lambda L: _f(L).linear(L.ones(2, 3), L.ones(4, 3, dtype=L.float64)), R),
    ("linear_module_f64_input", lambda L: L.nn.Linear(3, 4)(L.ones(2, 3, dtype=L.float64)), R),
    ("conv2d_f32_f64", lambda L: _f(L).conv2d(L.ones(1, 1, 4, 4), L.ones(1, 1, 3, 3, dtype=L.float64)), R),
    ("matmul_i64_i32", lambda L: L.ones(2, 3, dtype=L.int64) @ L.ones(3, 2, dtype=L.int32), R),
    ("addmm_input_f64", lambda L: L.addmm(L.ones(2, 2, dtype=L.float64), L.ones(2, 3), L.ones(3, 2)), R),
    ("addmv_input_f64", lambda L: L.addmv(L.ones(2, dtype=L.float64), L.ones(2, 3), L.ones(3)), R),
    ("baddbmm_input_f64", lambda L: L.baddbmm(L.ones(1, 2, 2, dtype=L.float64), L.ones(1, 2, 3), L.ones(1, 3, 2)), R),
    ("einsum_f32_f64", lambda L: L.einsum("ij,jk->ik", L.ones(2, 3), L.ones(3, 2, dtype=L.float64)), R),
    ("tensordot_f32_f64", lambda L: L.tensordot(L.ones(2, 3), L.ones(3, 2, dtype=L.float64), 1), R),
    ("bilinear_f32_f64", lambda L: _f(L).bilinear(L.ones(2, 3), L.ones(2, 3), L.ones(4, 3, 3, dtype=L.float64)), R),
    ("conv1d_f64_f32", lambda L: _f(L).conv1d(L.ones(1, 1, 4, dtype=L.float64), L.ones(1, 1, 3)), R),
    # concatenation and stacking
    ("cat_shapes", lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)], dim=0), R),
    ("cat_ndim", lambda L: L.cat([L.ones(2, 3), L.ones(3)]), R),
    ("cat_empty_list", lambda L: L.cat([]), V),
    ("cat_dim_range", lambda L: L.cat([L.ones(2, 3), L.ones(2, 3)], dim=2), I),
    ("stack_shapes", lambda L: L.stack([L.ones(2, 3), L.ones(3, 2)]), R),
    ("stack_empty_list", lambda L: L.stack([]), R),
    ("stack_dim_range", lambda L: L.stack([L.ones(2), L.ones(2)], dim=3), I),
    # views and reshapes
    ("view_numel", lambda L: L.ones(6).view(4), R),
    ("view_two_minus_one", lambda L: L.ones(6).view(-1, -1), R),
    ("view_noncontiguous", lambda L: L.ones(2, 3).t().view(6), R),
    ("view_negative", lambda L: L.ones(6).view(-2, 3), R),
    ("reshape_numel", lambda L: L.ones(6).reshape(4, 2), R),
    ("reshape_minus_one_uneven", lambda L: L.ones(6).reshape(-1, 4), R),
    ("expand_smaller", lambda L: L.ones(2, 3).expand(4, 4), R),
    ("expand_fewer_dims", lambda L: L.ones(2, 3).expand(3), R),
    ("repeat_fewer_dims", lambda L: L.ones(2, 3).repeat(2), R),
    ("permute_count", lambda L: L.ones(2, 3).permute(0), R),
    ("permute_repeat", lambda L: L.ones(2, 3).permute(0, 0), R),
    ("permute_range", lambda L: L.ones(2, 3).permute(0, 2), I),
    ("flatten_order", lambda L: L.ones(2, 3, 4).flatten(2, 1), R),
    ("unflatten_sizes", lambda L: L.ones(2, 6).unflatten(1, (4, 2)), R),
    ("narrow_start", lambda L: L.ones(3).narrow(0, 5, 1), I),
    ("narrow_length", lambda L: L.ones(3).narrow(0, 1, 5), R),
    ("narrow_negative_length", lambda L: L.ones(3).narrow(0, 1, -1), R),
    ("chunk_zero", lambda L: L.ones(3).chunk(0), R),
    ("split_sizes_sum", lambda L: L.ones(5).split([2, 2]), R),
    ("unbind_dim", lambda L: L.ones(2, 3).unbind(2), I),
    ("diag_3d", lambda L: L.diag(L.ones(2, 2, 2)), R),
    ("trace_1d", lambda L: L.trace(L.ones(3)), R),
    ("squeeze_repeated_dims", lambda L: L.ones(1, 3).squeeze((0, 0)), R),
    ("diff_negative_order", lambda L: L.ones(3).diff(n=-1), R),
    ("unfold_size", lambda L: L.ones(3).unfold(0, 5, 1), R),
    # dimensions out of range
    ("sum_dim", lambda L: L.ones(2, 3).sum(dim=2), I),
    ("mean_dim", lambda L: L.ones(2, 3).mean(dim=-3), I),
    ("amax_dim", lambda L: L.ones(2, 3).amax(dim=5), I),
    ("max_dim", lambda L: L.ones(2, 3).max(dim=2), I),
    ("argmax_dim", lambda L: L.ones(2, 3).argmax(dim=2), I),
    ("cumsum_dim", lambda L: L.ones(2, 3).cumsum(dim=2), I),
    ("softmax_dim", lambda L: L.softmax(L.ones(2, 3), dim=2), I),
    ("log_softmax_dim", lambda L: _f(L).log_softmax(L.ones(2, 3), dim=-3), I),
    ("transpose_dim", lambda L: L.ones(2, 3).transpose(0, 2), I),
    ("squeeze_dim", lambda L: L.ones(2, 3).squeeze(3), I),
    ("unsqueeze_dim", lambda L: L.ones(2, 3).unsqueeze(3), I),
    ("sort_dim", lambda L: L.ones(2, 3).sort(dim=2), I),
    ("flip_dim", lambda L: L.ones(2, 3).flip(2), I),
    ("size_dim", lambda L: L.ones(2, 3).size(2), I),
    ("index_select_dim", lambda L: L.ones(2, 3).index_select(2, L.tensor([0])), I),
    ("gather_dim", lambda L: L.ones(2, 3).gather(2, L.zeros(2, 3, dtype=L.int64)), I),
    ("topk_k", lambda L: L.ones(3).topk(5), R),
    # reductions of empty tensors
    ("max_empty", lambda L: L.ones(0).max(), R),
    ("argmax_empty", lambda L: L.ones(0).argmax(), I),
    ("max_dim_empty", lambda L: L.ones(0, 3).max(dim=0), I),
    ("argmin_empty", lambda L: L.ones(0).argmin(), I),
    ("amax_empty", lambda L: L.ones(0).amax(), R),
    ("amax_dim_empty", lambda L: L.ones(0).amax(0), I),
    ("kthvalue_empty", lambda L: L.ones(0).kthvalue(1), I),
    # indexing
    ("getitem_int_range", lambda L: L.ones(3)[5], I),
    ("getitem_negative_range", lambda L: L.ones(3)[-4], I),
    ("getitem_too_many", lambda L: L.ones(3)[0, 0], I),
    ("getitem_tensor_range", lambda L: L.ones(3)[L.tensor([5])], I),
    ("getitem_float_tensor", lambda L: L.ones(3)[L.tensor([0.0])], I),
    ("getitem_mask_shape", lambda L: L.ones(3)[L.tensor([True, False])], I),
    ("getitem_0d_int", lambda L: L.tensor(1.0)[0], I),
    ("setitem_int_range", _setitem(lambda L: 5), I),
    ("setitem_tensor_range", _setitem(lambda L: L.tensor([3])), I),
    ("setitem_float_tensor", _setitem(lambda L: L.tensor([1.0])), I),
    ("index_select_range", lambda L: L.ones(3).index_select(0, L.tensor([3])), I),
    ("index_select_negative", lambda L: L.ones(3).index_select(0, L.tensor([-1])), I),
    ("index_add_range", lambda L: L.zeros(3).index_add(0, L.tensor([5]), L.ones(1)), I),
    ("index_select_float", lambda L: L.ones(3).index_select(0, L.tensor([0.0])), R),
    ("gather_range", lambda L: L.ones(2, 3).gather(1, L.tensor([[5], [0]])), R),
    ("gather_float", lambda L: L.ones(2, 3).gather(1, L.tensor([[0.0], [1.0]])), R),
    ("gather_ndim", lambda L: L.ones(2, 3).gather(1, L.tensor([0, 1])), R),
    ("scatter_range", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[5], [0]]), 1.0), R),
    ("scatter_float", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[0.0], [1.0]]), 1.0), R),
    ("take_range", lambda L: L.take(L.ones(2, 3), L.tensor([6])), I),
    ("embedding_range", lambda L: L.nn.Embedding(4, 2)(L.tensor([4])), I),
    ("embedding_float", lambda L: L.nn.Embedding(4, 2)(L.tensor([1.0])), R),
    ("one_hot_negative", lambda L: _f(L).one_hot(L.tensor([-1, 0])), R),
    ("one_hot_classes", lambda L: _f(L).one_hot(L.tensor([3]), num_classes=2), R),
    ("masked_fill_float_mask", lambda L: L.ones(3).masked_fill(L.ones(3), 0.0), R),
    ("where_float_cond", lambda L: L.where(L.ones(3), L.ones(3), L.zeros(3)), R),
    ("where_int_cond", lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)), R),
    ("embedding_bag_offsets", lambda L: _f(L).embedding_bag(L.tensor([0, 1]), L.ones(3, 2), L.tensor([1])), R),
    # dtypes
    ("requires_grad_int", lambda L: L.ones(3, dtype=L.int64).requires_grad_(), R),
    ("tensor_requires_grad_int", lambda L: L.tensor([1, 2], requires_grad=True), R),
    ("zeros_requires_grad_int", lambda L: L.zeros(3, dtype=L.int64, requires_grad=True), R),
    ("requires_grad_bool", lambda L: L.tensor([True]).requires_grad_(), R),
    ("add_inplace_float_into_int", lambda L: L.ones(3, dtype=L.int64).add_(1.5), R),
    ("mul_inplace_float_tensor_into_int", lambda L: L.ones(3, dtype=L.int64).mul_(L.ones(3)), R),
    ("sub_bool", lambda L: L.tensor([True]) - L.tensor([False]), R),
    ("neg_bool", lambda L: -L.tensor([True]), R),
    ("bitwise_not_float", lambda L: ~L.ones(3), T),
    ("bitwise_and_float", lambda L: L.ones(3) & L.ones(3), R),
    ("bitwise_not_function_float", lambda L: L.bitwise_not(L.ones(3)), NotImplementedError),
    ("to_dtype_string", lambda L: L.ones(3).to(dtype="float"), T),
    ("mean_int", lambda L: _ints(L).mean(), R),
    ("std_int", lambda L: _ints(L).std(), R),
    ("int_pow_negative_scalar", lambda L: _ints(L) ** -1, R),
    ("div_bad_rounding_mode", lambda L: L.div(L.ones(3), 2.0, rounding_mode="round"), R),
    ("clamp_no_bounds", lambda L: L.ones(3).clamp(), R),
    # integer division by zero
    ("floordiv_tensor_zero", lambda L: _ints(L) // L.tensor([1, 0, 2]), R),
    ("floordiv_scalar_zero", lambda L: _ints(L) // 0, R),
    ("mod_tensor_zero", lambda L: _ints(L) % L.tensor([1, 0, 2]), R),
    ("mod_scalar_zero", lambda L: _ints(L) % 0, R),
    ("rfloordiv_zero", lambda L: 7 // L.tensor([1, 0]), R),
    ("rmod_zero", lambda L: 7 % L.tensor([1, 0]), R),
    ("floor_divide_zero", lambda L: L.floor_divide(_ints(L), 0), R),
    ("remainder_zero", lambda L: L.remainder(_ints(L), L.zeros(3, dtype=L.int64)), R),
    ("fmod_zero", lambda L: L.fmod(_ints(L), 0), R),
    ("fmod_tensor_zero", lambda L: L.fmod(_ints(L), L.tensor([1, 0, 2])), R),
    ("div_floor_zero", lambda L: L.div(_ints(L), 0, rounding_mode="floor"), R),
    ("div_trunc_zero", lambda L: L.div(_ints(L), L.tensor([0, 1, 1]), rounding_mode="trunc"), R),
    ("floordiv_inplace_zero", lambda L: _ints(L).floor_divide_(0), R),
    ("remainder_inplace_zero", lambda L: _ints(L).remainder_(L.tensor([0, 1, 1])), R),
    # creation
    ("tensor_int_overflow", lambda L: L.tensor([2**63]), V),
    ("tensor_int_underflow", lambda L: L.tensor([-(2**63) - 1]), V),
    ("tensor_scalar_overflow", lambda L: L.tensor(2**64), V),
    ("tensor_uint8_overflow", lambda L: L.tensor([300], dtype=L.uint8), R),
    ("tensor_int8_overflow", lambda L: L.tensor([200], dtype=L.int8), R),
    ("tensor_int32_overflow", lambda L: L.tensor([2**31], dtype=L.int32), R),
    ("full_uint8_overflow", lambda L: L.full((2,), 300, dtype=L.uint8), R),
    ("full_int64_overflow", lambda L: L.full((2,), 2**63), R),
    ("full_float32_overflow", lambda L: L.full((2,), 1e40, dtype=L.float32), R),
    ("full_int_nan", lambda L: L.full((2,), float("nan"), dtype=L.int64), R),
    ("fill_uint8_overflow", lambda L: L.zeros(3, dtype=L.uint8).fill_(300), R),
    ("tensor_uint8_below_wrap", lambda L: L.tensor([-256], dtype=L.uint8), R),
    ("tensor_negative_float_uint8", lambda L: L.tensor([-1.0], dtype=L.uint8), R),
    ("tensor_nan_int", lambda L: L.tensor([float("nan")], dtype=L.int64), R),
    ("tensor_int64_overflow_dtype", lambda L: L.tensor([2**63], dtype=L.int64), V),
    ("tensor_ragged", lambda L: L.tensor([[1, 2], [3]]), V),
    ("tensor_str", lambda L: L.tensor("abc"), T),
    ("tensor_none", lambda L: L.tensor(None), R),
    ("arange_negative_step", lambda L: L.arange(0, 10, -1), R),
    ("arange_end_before_start", lambda L: L.arange(5, 0), R),
    ("arange_step_zero", lambda L: L.arange(0, 1, 0), R),
    ("arange_huge", lambda L: L.arange(0, 2**63), R),
    ("arange_huge_float", lambda L: L.arange(0.0, 1e30), R),
    ("arange_nan", lambda L: L.arange(0, float("nan")), R),
    ("arange_inf", lambda L: L.arange(0, float("inf")), R),
    ("arange_step_nan", lambda L: L.arange(0, 1, float("nan")), R),
    ("arange_huge_step", lambda L: L.arange(0, 5, 2**63), R),
    ("arange_size_overflow", lambda L: L.arange(0, 2**62), R),
    ("linspace_huge", lambda L: L.linspace(0, 1, 2**62), R),
    ("eye_m_negative", lambda L: L.eye(2, -1), R),
    ("empty_size_overflow", lambda L: L.empty(2**62, 2**62), R),
    ("randn_huge", lambda L: L.randn(2**45), R),
    ("expand_contiguous_huge", lambda L: L.ones(3).expand(2**45, 3).contiguous(), R),
    ("outer_huge", lambda L: L.outer(L.ones(2**23), L.ones(2**23)), R),
    ("linspace_negative_steps", lambda L: L.linspace(0, 1, -1), R),
    ("logspace_negative_steps", lambda L: L.logspace(0, 1, -1), R),
    ("ones_negative", lambda L: L.ones(-1), R),
    ("zeros_negative", lambda L: L.zeros(2, -3), R),
    ("randn_negative", lambda L: L.randn(-1), R),
    ("full_negative", lambda L: L.full((-1,), 1.0), R),
    ("eye_negative", lambda L: L.eye(-1), R),
    ("empty_huge", lambda L: L.empty(2**45), R),
    ("zeros_huge", lambda L: L.zeros(2**45), R),
    ("ones_huge", lambda L: L.ones(2**22, 2**23), R),
    ("randint_empty_range", lambda L: L.randint(5, 5, (2,)), R),
    ("randperm_negative", lambda L: L.randperm(-1), R),
    ("randint_dtype_range", lambda L: L.randint(0, 300, (2,), dtype=L.uint8), R),
    ("randint_overflow", lambda L: L.randint(0, 2**63, (2,)), V),
    ("normal_scalar_negative_std", lambda L: L.normal(0.0, -1.0, (2,)), R),
    ("normal_nan_std", lambda L: L.normal(L.zeros(2), L.tensor([float("nan"), 1.0])), R),
    ("normal_inplace_negative_std", lambda L: L.zeros(3).normal_(0.0, -1.0), R),
    ("bernoulli_nan", lambda L: L.bernoulli(L.tensor([float("nan")])), R),
    ("bernoulli_scalar_p", lambda L: L.bernoulli(L.zeros(2), -0.1), R),
    ("bernoulli_inplace_p", lambda L: L.zeros(3).bernoulli_(1.5), R),
    ("manual_seed_overflow", lambda L: L.manual_seed(2**64), V),
    ("normal_negative_std", lambda L: L.normal(L.zeros(2), -L.ones(2)), R),
    ("bernoulli_p_range", lambda L: L.bernoulli(L.full((2,), 1.5)), R),
    ("multinomial_negative", lambda L: L.multinomial(L.tensor([0.5, -0.1]), 1), R),
    ("multinomial_too_many", lambda L: L.multinomial(L.tensor([0.5, 0.5]), 3), R),
    # conversions
    ("item_many", lambda L: L.ones(2).item(), R),
    ("float_many", lambda L: float(L.ones(2)), V),
    ("int_many", lambda L: int(L.ones(2)), V),
    ("bool_many", lambda L: bool(L.ones(2)), R),
    ("len_0d", lambda L: len(L.tensor(1.0)), T),
    ("iter_0d", lambda L: iter(L.tensor(1.0)), T),
    ("numpy_requires_grad", lambda L: L.ones(2, requires_grad=True).numpy(), R),
    ("device_bad_string", lambda L: L.device("bogus"), R),
    ("to_bad_device", lambda L: L.ones(2).to("bogus"), R),
    ("device_bad_index", lambda L: L.device("cuda:bogus"), R),
    # autograd
    ("backward_non_scalar", lambda L: (L.ones(3, requires_grad=True) * 2).backward(), R),
    ("backward_no_grad", lambda L: L.ones(3).sum().backward(), R),
    ("backward_twice", _backward_twice, R),
    ("backward_grad_shape", lambda L: (L.ones(3, requires_grad=True) * 2).backward(L.ones(2)), R),
    ("grad_non_scalar", lambda L: (lambda x: L.autograd.grad(x * 2, x))(L.ones(3, requires_grad=True)), R),
    (
        "grad_unused",
        lambda L: (lambda x, y: L.autograd.grad((x * 2).sum(), y))(
            L.ones(3, requires_grad=True), L.ones(3, requires_grad=True)
        ),
        R,
    ),
    (
        "grad_input_not_requiring",
        lambda L: (lambda x: L.autograd.grad((x * 2).sum(), L.ones(3)))(L.ones(3, requires_grad=True)),
        R,
    ),
    ("grad_empty_inputs", lambda L: L.autograd.grad(L.ones(1, requires_grad=True).sum(), []), R),
    ("requires_grad_after_int_cast", lambda L: L.ones(2, requires_grad=True).long().requires_grad_(), R),
    ("inplace_on_leaf", lambda L: L.ones(3, requires_grad=True).add_(1), R),
    ("modified_saved_tensor", _modified_saved, R),
    ("assign_grad_shape", _set_grad(lambda L: L.ones(2)), R),
    ("assign_grad_dtype", _set_grad(lambda L: L.ones(3, dtype=L.float64)), R),
    # nn.functional
    ("cross_entropy_batch", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.tensor([0, 1])), V),
    ("cross_entropy_float_target", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.tensor([0.0, 1.0, 2.0])), R),
    ("cross_entropy_target_range", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.tensor([0, 1, 4])), I),
    ("cross_entropy_target_negative", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.tensor([0, 1, -2])), I),
    ("cross_entropy_target_2d", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.zeros(3, 2, dtype=L.int64)), R),
    ("cross_entropy_prob_shape", lambda L: _f(L).cross_entropy(L.ones(3, 4), L.ones(3, 5)), R),
    ("nll_loss_target_range", lambda L: _f(L).nll_loss(L.ones(3, 4), L.tensor([0, 1, 7])), I),
    ("nll_loss_batch", lambda L: _f(L).nll_loss(L.ones(3, 4), L.tensor([0, 1])), V),
    ("bce_input_range", lambda L: _f(L).binary_cross_entropy(L.full((2,), 1.5), L.ones(2)), R),
    ("conv2d_channels", lambda L: _f(L).conv2d(L.ones(1, 2, 5, 5), L.ones(4, 3, 3, 3)), R),
    ("conv2d_module_channels", lambda L: L.nn.Conv2d(3, 4, 3)(L.ones(1, 2, 5, 5)), R),
    ("conv2d_input_2d", lambda L: _f(L).conv2d(L.ones(5, 5), L.ones(1, 1, 3, 3)), R),
    ("conv2d_weight_ndim", lambda L: _f(L).conv2d(L.ones(1, 1, 5, 5), L.ones(1, 3, 3)), R),
    ("conv2d_kernel_too_big", lambda L: _f(L).conv2d(L.ones(1, 1, 2, 2), L.ones(1, 1, 3, 3)), R),
    ("conv2d_groups", lambda L: _f(L).conv2d(L.ones(1, 3, 5, 5), L.ones(2, 1, 3, 3), groups=2), R),
    ("max_pool2d_too_big", lambda L: _f(L).max_pool2d(L.ones(1, 1, 2, 2), 3), R),
    ("batch_norm_channels", lambda L: L.nn.BatchNorm1d(3)(L.ones(4, 5)), R),
    ("layer_norm_shape", lambda L: _f(L).layer_norm(L.ones(2, 3), (4,)), R),
    ("dropout_p", lambda L: _f(L).dropout(L.ones(3), p=1.5), V),
    ("dropout_module_p", lambda L: L.nn.Dropout(p=-0.1), V),
    ("softmax_int", lambda L: L.softmax(_ints(L), dim=0), R),
    ("pad_odd_length", lambda L: _f(L).pad(L.ones(2, 3), (1, 1, 1)), R),
    ("pad_too_long", lambda L: _f(L).pad(L.ones(3), (1, 1, 1, 1)), R),
    # linear algebra
    ("inv_non_square", lambda L: L.linalg.inv(L.ones(2, 3)), R),
    ("inv_singular", lambda L: L.linalg.inv(L.zeros(2, 2)), R),
    ("det_non_square", lambda L: L.linalg.det(L.ones(2, 3)), R),
    ("solve_shapes", lambda L: L.linalg.solve(L.eye(2), L.ones(3)), R),
    ("cholesky_not_pd", lambda L: L.linalg.cholesky(-L.eye(2)), R),
    # modules and optimizers
    ("load_state_dict_missing", _load_missing, R),
    ("load_state_dict_shape", _load_wrong_shape, R),
    ("sgd_negative_lr", _optim("SGD", lr=-1.0), V),
    ("adam_bad_beta", _optim("Adam", betas=(1.5, 0.9)), V),
    ("sgd_empty_params", lambda L: L.optim.SGD([], lr=0.1), V),
    # mixed float32/float64 operands where PyTorch does not promote
    ("cdist_mixed_dtypes", lambda L: L.cdist(L.rand(3, 2), L.rand(3, 2, dtype=L.float64)), R),
    ("cross_mixed_dtypes", lambda L: L.cross(L.rand(3), L.rand(3, dtype=L.float64), dim=0), R),
    ("linalg_cross_mixed_dtypes", lambda L: L.linalg.cross(L.rand(3), L.rand(3, dtype=L.float64)), R),
    ("solve_mixed_dtypes", lambda L: L.linalg.solve(L.eye(3), L.rand(3, 3, dtype=L.float64)), R),
    ("layer_norm_float64_weight", lambda L: _f(L).layer_norm(L.rand(2, 3), (3,), L.ones(3, dtype=L.float64)), R),
    ("group_norm_float64_weight", lambda L: _f(L).group_norm(L.rand(2, 3), 1, L.ones(3, dtype=L.float64)), R),
    (
        "batch_norm_float64_weight",
        lambda L: _f(L).batch_norm(L.rand(2, 3), L.zeros(3), L.ones(3), L.ones(3, dtype=L.float64), training=True),
        R,
    ),
    (
        "cross_entropy_float64_weight",
        lambda L: _f(L).cross_entropy(L.rand(3, 3), L.tensor([0, 1, 2]), weight=L.ones(3, dtype=L.float64)),
        R,
    ),
    ("logsumexp_without_dim", lambda L: L.logsumexp(L.ones(2, 3)), T),
]
