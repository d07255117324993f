"""The 60-minute blitz: define a CNN, walk loss.grad_fn, train it with SGD on small images.

(The blitz trains on CIFAR-10; this runs the same steps on the bundled 8x8 digits.)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from same_start import same_start

data = np.load("data/digits.npz")
images = torch.from_numpy(data["images"]).float().div(16.0).unsqueeze(1)      # (N, 1, 8, 8) in [0, 1]
labels = torch.from_numpy(data["labels"])
trainset = torch.utils.data.TensorDataset(images[:800], labels[:800])
testset = torch.utils.data.TensorDataset(images[800:], labels[800:])
trainloader = torch.utils.data.DataLoader(trainset, batch_size=16, shuffle=True,
                                          generator=torch.Generator().manual_seed(0))
testloader = torch.utils.data.DataLoader(testset, batch_size=50, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 60)
        self.fc2 = nn.Linear(60, 40)
        self.fc3 = nn.Linear(40, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


torch.manual_seed(0)
net = Net()
same_start(net)
params = list(net.parameters())
print(len(params), params[0].size())

# The "Neural Networks" page: a loss on a dummy target, and its graph walked backwards.
input = images[:1]
output = net(input)
target = torch.randn(10).view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(f"{loss.item():.4f}")
print(loss.grad_fn)                                                   # MSELoss
print(loss.grad_fn.next_functions[0][0])                              # Linear
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])         # ReLU
net.zero_grad()
print("conv1.bias.grad before backward", net.conv1.bias.grad)
loss.backward()
print("conv1.bias.grad after backward", [round(v, 4) for v in net.conv1.bias.grad.tolist()])

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for epoch in range(2):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels_ = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels_)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 25 == 24:
            print(f"[{epoch + 1}, {i + 1:3d}] loss: {running_loss / 25:.4f}")
            running_loss = 0.0

correct = 0
total = 0
with torch.no_grad():
    for images_, labels_ in testloader:
        outputs = net(images_)
        _, predicted = torch.max(outputs, 1)
        total += labels_.size(0)
        correct += (predicted == labels_).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
