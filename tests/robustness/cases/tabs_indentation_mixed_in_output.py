import torch
import torch.nn.functional as F


# Tab-indented input: the generated forward mixes the copied tab-indented
# lines with space-indented generated ones (IndentationError / TabError).
class M(torch.nn.Module):
	def forward(self, x):
		if x.dim() == 2:
			x = torch.relu(x)
		return F.linear(x, self.weight)
