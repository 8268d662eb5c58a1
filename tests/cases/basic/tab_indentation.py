import torch


class Tabs(torch.nn.Module):
	def forward(self, x):
		if x.sum() > 0:
			return torch.relu(x)
		return x * 2
